"""GEMM kernels (naive and tiled) against numpy.matmul, all transpose combinations, odd sizes
that do not divide the 16 / 64 / 8 tiles; C is NaN-poisoned before every launch."""

import numba
import numpy as np
import pytest

from alexnet_np.cuda.common import poison, to_device
from alexnet_np.cuda.gemm import gemm

SIM = numba.config.ENABLE_CUDASIM
SHAPES = [(5, 3, 7), (67, 70, 9)] if SIM else [(5, 3, 7), (67, 70, 9), (1000, 513, 777)]


@pytest.mark.parametrize("version", ["naive", "tiled"])
@pytest.mark.parametrize("trans_a,trans_b", [(0, 0), (0, 1), (1, 0), (1, 1)],
                         ids=["AB", "ABt", "AtB", "AtBt"])
@pytest.mark.parametrize("m,n,k", SHAPES, ids=[f"m{m}n{n}k{k}" for m, n, k in SHAPES])
def test_gemm_matches_numpy(version, trans_a, trans_b, m, n, k):
    if SIM and version == "tiled" and (m, n) != (5, 3) and (trans_a, trans_b) != (1, 1):
        pytest.skip("simulator: one large tiled case is enough (slow threads)")
    rng = np.random.default_rng(m + n + k)
    a = rng.standard_normal((k, m) if trans_a else (m, k)).astype(np.float32)
    b = rng.standard_normal((n, k) if trans_b else (k, n)).astype(np.float32)
    ref = (a.T if trans_a else a) @ (b.T if trans_b else b)
    d_c = poison(to_device(np.zeros((m, n))))
    gemm(d_c, to_device(a), to_device(b), bool(trans_a), bool(trans_b), version=version)
    np.testing.assert_allclose(d_c.copy_to_host(), ref, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("version", ["naive", "tiled"])
def test_gemm_alpha_beta(version):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((6, 4)).astype(np.float32), rng.standard_normal((4, 5))
    c = rng.standard_normal((6, 5)).astype(np.float32)
    d_c = to_device(c)
    gemm(d_c, to_device(a), to_device(b), alpha=0.5, beta=2.0, version=version)
    np.testing.assert_allclose(d_c.copy_to_host(), 0.5 * a @ b + 2 * c, rtol=1e-5, atol=1e-5)


def test_gemm_shape_errors():
    d = to_device(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="inner sizes"):
        gemm(to_device(np.zeros((3, 3))), d, d)
