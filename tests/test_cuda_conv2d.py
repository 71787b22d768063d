"""Conv2d kernels (v1 naive, im2col + the v2 and v3 GEMMs) against the NumPy layer: forward,
backward-data, backward-weights and bias, with stride 4, padding, groups 2 and odd sizes.
Outputs are NaN-poisoned before every launch."""

import numba
import numpy as np
import pytest

from alexnet_np.cuda.common import empty, poison, to_device
from alexnet_np.cuda.conv2d import ConvGeometry, ConvWorkspace, conv2d_backward, conv2d_forward
from alexnet_np.layers.conv2d import conv2d_backward as np_backward
from alexnet_np.layers.conv2d import conv2d_forward as np_forward

SIM = numba.config.ENABLE_CUDASIM
#        n, c, h, w, f, kh, kw, stride, padding, groups
CASES = [(1, 3, 13, 11, 4, 5, 5, 4, 0, 1),  # stride 4, odd sizes (conv1-like)
         (2, 4, 5, 6, 6, 3, 3, 1, 2, 2),  # groups 2, padding 2 > kernel/2
         (1, 2, 7, 7, 3, 3, 3, 2, 1, 1)]  # stride 2 with padding
if not SIM:
    CASES += [(16, 3, 67, 67, 96, 11, 11, 4, 0, 1), (8, 96, 27, 27, 256, 5, 5, 1, 2, 2),
              (8, 256, 13, 13, 384, 3, 3, 1, 1, 1), (8, 384, 13, 13, 384, 3, 3, 1, 1, 2)]


@pytest.mark.parametrize("version,gemm_version",
                         [("naive", "naive"), ("gemm", "tiled"), ("gemm", "tiled128")])
@pytest.mark.parametrize("case", CASES, ids=lambda c: "n{}c{}-{}x{}-f{}k{}x{}-s{}p{}g{}".format(*c))
def test_conv2d_matches_numpy(version, gemm_version, case):
    geo = ConvGeometry(*case)
    rng = np.random.default_rng(sum(case))
    x = rng.standard_normal((geo.n, geo.c, geo.h, geo.w)).astype(np.float32)
    W = rng.standard_normal((geo.f, geo.cg, geo.kh, geo.kw)).astype(np.float32)
    b = rng.standard_normal(geo.f).astype(np.float32)
    out_ref, cache = np_forward(x, W, b, geo.stride, geo.padding, geo.groups)
    dout = rng.standard_normal(out_ref.shape).astype(np.float32)
    dx_ref, dw_ref, db_ref = np_backward(dout, cache)

    d_x, d_W, d_b = to_device(x), to_device(W), to_device(b)
    d_out = poison(empty(geo.out_shape))
    ws = ConvWorkspace(geo)
    poison(ws.cols)
    poison(ws.mat)
    conv2d_forward(d_out, d_x, d_W, d_b, geo, version, ws, gemm_version)
    tol = dict(rtol=1e-4, atol=1e-4 * max(1, np.abs(out_ref).max()))
    np.testing.assert_allclose(d_out.copy_to_host(), out_ref, **tol)

    d_dx, d_dW, d_db = poison(empty(x.shape)), poison(empty(W.shape)), poison(empty(b.shape))
    conv2d_backward(d_dx, d_dW, d_db, to_device(dout), d_x, d_W, geo, version, ws,
                    gemm_version)
    for got, ref in ((d_dx, dx_ref), (d_dW, dw_ref), (d_db, db_ref)):
        ref = np.asarray(ref)
        np.testing.assert_allclose(got.copy_to_host(), ref, rtol=1e-4,
                                   atol=1e-4 * max(1, np.abs(ref).max()))


def test_conv2d_backward_without_dx():
    geo = ConvGeometry(1, 2, 5, 5, 2, 3, 3, 1, 0, 1)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 2, 5, 5)).astype(np.float32)
    W = rng.standard_normal((2, 2, 3, 3)).astype(np.float32)
    _, cache = np_forward(x, W, np.zeros(2, np.float32))
    dout = rng.standard_normal((1, 2, 3, 3)).astype(np.float32)
    _, dw_ref, _ = np_backward(dout, cache)
    d_dW = poison(empty(W.shape))
    dx, _, _ = conv2d_backward(None, d_dW, empty(2), to_device(dout), to_device(x),
                               to_device(W), geo, "naive")
    assert dx is None
    np.testing.assert_allclose(d_dW.copy_to_host(), dw_ref, rtol=1e-4, atol=1e-4)
