"""Max-pooling kernels against the NumPy layer: overlapping (3/2) and non-overlapping (2/2)
windows, odd sizes, and ties (first maximum wins, as in NumPy). dx is NaN-poisoned."""

import numba
import numpy as np
import pytest

from alexnet_np.cuda.common import empty, poison, to_device
from alexnet_np.cuda.maxpool2d import empty_arg, maxpool2d_backward, maxpool2d_forward
from alexnet_np.layers.maxpool2d import maxpool2d_backward as np_backward
from alexnet_np.layers.maxpool2d import maxpool2d_forward as np_forward

SIM = numba.config.ENABLE_CUDASIM
SHAPES = [(2, 3, 7, 9), (1, 2, 5, 5)] if SIM else [(2, 3, 7, 9), (64, 96, 55, 55)]


@pytest.mark.parametrize("k,s", [(3, 2), (2, 2), (3, 1)], ids=["k3s2", "k2s2", "k3s1"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda shape: "x".join(map(str, shape)))
@pytest.mark.parametrize("ties", [False, True], ids=["distinct", "ties"])
def test_maxpool2d_matches_numpy(k, s, shape, ties):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    if ties:
        x = np.round(x).astype(np.float32)  # many equal values in each window
    out_ref, cache = np_forward(x, k, s)
    dout = rng.standard_normal(out_ref.shape).astype(np.float32)
    dx_ref = np_backward(dout, cache)
    d_out, d_arg, d_dx = poison(empty(out_ref.shape)), empty_arg(out_ref.shape), empty(shape)
    maxpool2d_forward(d_out, d_arg, to_device(x), k, s)
    np.testing.assert_array_equal(d_out.copy_to_host(), out_ref)
    poison(d_dx)
    maxpool2d_backward(d_dx, to_device(dout), d_arg, k, s)
    # an input wins up to (k // s + 1)^2 windows; the kernel adds their dout in another order
    # than the NumPy scatter: allow n eps sum|terms| (the bound for a sum of n terms)
    n_terms = (k // s + 1) ** 2
    atol = n_terms * np.finfo(np.float32).eps * n_terms * np.abs(dout).max()
    np.testing.assert_allclose(d_dx.copy_to_host(), dx_ref, rtol=0, atol=atol)
