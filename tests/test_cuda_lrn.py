"""LRN kernels against the NumPy layer (paper's alpha, k = 2), odd and even window sizes,
fewer channels than the window. Outputs NaN-poisoned."""

import numba
import numpy as np
import pytest

from alexnet_np.cuda.common import empty, poison, to_device
from alexnet_np.cuda.lrn import lrn_backward, lrn_forward
from alexnet_np.layers.lrn import lrn_backward as np_backward
from alexnet_np.layers.lrn import lrn_forward as np_forward

SIM = numba.config.ENABLE_CUDASIM
SHAPES = [(2, 7, 3, 5), (1, 3, 2, 3)] if SIM else [(2, 7, 3, 5), (32, 96, 55, 55)]


@pytest.mark.parametrize("size,alpha,beta,k", [(5, 1e-4, 0.75, 2.0), (4, 1e-2, 0.5, 1.0)],
                         ids=["paper", "size4-alpha0.01-beta0.5-k1"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda shape: "x".join(map(str, shape)))
def test_lrn_matches_numpy(size, alpha, beta, k, shape):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(shape) * 10).astype(np.float32)
    out_ref, cache = np_forward(x, size, alpha, beta, k)
    dout = rng.standard_normal(shape).astype(np.float32)
    dx_ref = np_backward(dout, cache)
    d_x, d_out, d_den, d_dx = to_device(x), poison(empty(shape)), poison(empty(shape)), \
        poison(empty(shape))
    lrn_forward(d_out, d_den, d_x, size, alpha, beta, k)
    np.testing.assert_allclose(d_out.copy_to_host(), out_ref, rtol=1e-5, atol=1e-5)
    lrn_backward(d_dx, to_device(dout), d_x, d_out, d_den, size, alpha, beta)
    np.testing.assert_allclose(d_dx.copy_to_host(), dx_ref, rtol=1e-4, atol=1e-5)
