"""GEMM kernels (v1 naive, v2 tiled, v3 tiled128) against numpy.matmul, all transpose
combinations, odd sizes that do not divide the 16 / 64 / 128 / 8 tiles, v3's split-K and
groups; C is NaN-poisoned before every launch."""

import numba
import numpy as np
import pytest

from alexnet_np.cuda.common import poison, to_device
from alexnet_np.cuda.gemm import gemm

SIM = numba.config.ENABLE_CUDASIM
SHAPES = [(5, 3, 7), (67, 70, 9)] if SIM else [(5, 3, 7), (67, 70, 9), (1000, 513, 777)]


@pytest.mark.parametrize("version", ["naive", "tiled", "tiled128"])
@pytest.mark.parametrize("trans_a,trans_b", [(0, 0), (0, 1), (1, 0), (1, 1)],
                         ids=["AB", "ABt", "AtB", "AtBt"])
@pytest.mark.parametrize("m,n,k", SHAPES, ids=[f"m{m}n{n}k{k}" for m, n, k in SHAPES])
def test_gemm_matches_numpy(version, trans_a, trans_b, m, n, k):
    if SIM and version != "naive" and (m, n) != (5, 3) and (trans_a, trans_b) != (1, 1):
        pytest.skip("simulator: one large tiled case is enough (slow threads)")
    rng = np.random.default_rng(m + n + k)
    a = rng.standard_normal((k, m) if trans_a else (m, k)).astype(np.float32)
    b = rng.standard_normal((n, k) if trans_b else (k, n)).astype(np.float32)
    ref = (a.T if trans_a else a) @ (b.T if trans_b else b)
    d_c = poison(to_device(np.zeros((m, n))))
    gemm(d_c, to_device(a), to_device(b), bool(trans_a), bool(trans_b), version=version)
    np.testing.assert_allclose(d_c.copy_to_host(), ref, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("version", ["naive", "tiled", "tiled128"])
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


@pytest.mark.parametrize("version", ["tiled", "tiled128"])
@pytest.mark.parametrize("trans_a,trans_b", [(0, 1), (1, 0)])
def test_gemm_groups_and_split_k(version, trans_a, trans_b):
    """2 groups (each stored matrix cut in 2 row blocks); v3 cuts K = 40 into 3 chunks of 16,
    16 and 8 and adds the partials in order, with alpha and beta applied once."""
    g, m, n, k = 2, 9, 13, 40
    rng = np.random.default_rng(7)
    a = rng.standard_normal((g * k, m) if trans_a else (g * m, k)).astype(np.float32)
    b = rng.standard_normal((g * n, k) if trans_b else (g * k, n)).astype(np.float32)
    c = rng.standard_normal((g * m, n)).astype(np.float32)
    ref = []
    for i in range(g):
        ai = a[i * a.shape[0] // g:(i + 1) * a.shape[0] // g]
        bi = b[i * b.shape[0] // g:(i + 1) * b.shape[0] // g]
        ref.append((ai.T if trans_a else ai) @ (bi.T if trans_b else bi))
    ref = 0.5 * np.concatenate(ref) + 2.0 * c
    d_c = to_device(c)
    splits = 3 if version == "tiled128" else None
    gemm(d_c, to_device(a), to_device(b), bool(trans_a), bool(trans_b), alpha=0.5, beta=2.0,
         version=version, groups=g, splits=splits)
    np.testing.assert_allclose(d_c.copy_to_host(), ref, rtol=1e-4, atol=1e-4)


def test_split_k_is_deterministic_and_chosen_for_few_tiles():
    from alexnet_np.cuda.gemm3 import MIN_SPLIT_K, choose_splits

    assert choose_splits(tiles=10_000, K=10**6) == 1  # enough blocks: no split
    assert choose_splits(tiles=1, K=MIN_SPLIT_K - 1) == 1  # too short to split
    assert choose_splits(tiles=1, K=10**6) > 1
    rng = np.random.default_rng(8)
    a, b = rng.standard_normal((4, 300)), rng.standard_normal((300, 5))
    outs = []
    for _ in range(2):
        d_c = poison(to_device(np.zeros((4, 5))))
        gemm(d_c, to_device(a), to_device(b), version="tiled128", splits=2)
        outs.append(d_c.copy_to_host())
    np.testing.assert_array_equal(outs[0], outs[1])  # a fixed order: the same bits
    np.testing.assert_allclose(outs[0], a @ b, rtol=1e-4, atol=1e-4)


def test_gemm_bad_groups():
    d = to_device(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="groups"):
        gemm(to_device(np.zeros((3, 4))), d, to_device(np.zeros((4, 4))), groups=2)
