"""ReLU, tanh, dropout, zero-pad, linear, softmax cross-entropy, bias reductions and SGD
kernels against their NumPy twins. Outputs NaN-poisoned before every launch."""

import numba
import numpy as np
import pytest

from alexnet_np.cuda import dropout as cdrop
from alexnet_np.cuda.common import empty, grid_1d, poison, to_device
from alexnet_np.cuda.linear import linear_backward, linear_forward
from alexnet_np.cuda.reduce import sum_channels, sum_cols, sum_rows
from alexnet_np.cuda.relu import relu_backward, relu_forward, tanh_backward, tanh_forward
from alexnet_np.cuda.sgd import sgd_update
from alexnet_np.cuda.softmax_xent import softmax_xent
from alexnet_np.cuda.zeropad2d import pad_bwd_kernel, pad_fwd_kernel
from alexnet_np.layers import linear as np_linear
from alexnet_np.layers import relu as np_relu
from alexnet_np.layers.softmax_xent import softmax_xent_backward, softmax_xent_forward
from alexnet_np.layers.zeropad2d import zeropad2d_backward, zeropad2d_forward
from alexnet_np.optim import SGD

SIM = numba.config.ENABLE_CUDASIM
BIG = 1 if SIM else 64


@pytest.mark.parametrize("kind", ["relu", "tanh"])
def test_activation(kind):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 5 * BIG, 7)).astype(np.float32)
    dout = rng.standard_normal(x.shape).astype(np.float32)
    fwd, bwd = {"relu": (relu_forward, relu_backward), "tanh": (tanh_forward, tanh_backward)}[kind]
    nf, nb = getattr(np_relu, f"{kind}_forward"), getattr(np_relu, f"{kind}_backward")
    ref, cache = nf(x)
    d_out, d_dx = poison(empty(x.shape)), poison(empty(x.shape))
    fwd(d_out, to_device(x))
    bwd(d_dx, to_device(dout), d_out)
    np.testing.assert_allclose(d_out.copy_to_host(), ref, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(d_dx.copy_to_host(), nb(dout, cache), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("p", [0.5, 0.2])
def test_dropout_mask_matches_numpy_twin(p):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 33 * BIG)).astype(np.float32)
    key = cdrop.dropout_key(7, 3, 11)
    keep = cdrop.dropout_mask_numpy(key, x.size, p).reshape(x.shape)
    d_out, d_dx = poison(empty(x.shape)), poison(empty(x.shape))
    cdrop.dropout_forward(d_out, to_device(x), p, key)
    cdrop.dropout_backward(d_dx, to_device(x), p, key)
    ref = x * keep / np.float32(1 - p)
    np.testing.assert_allclose(d_out.copy_to_host(), ref, rtol=1e-6)
    np.testing.assert_allclose(d_dx.copy_to_host(), ref, rtol=1e-6)


def test_dropout_mask_statistics_and_keys():
    keep = cdrop.dropout_mask_numpy(cdrop.dropout_key(0, 0, 0), 100_000, 0.5)
    assert abs(keep.mean() - 0.5) < 0.01
    other = cdrop.dropout_mask_numpy(cdrop.dropout_key(0, 0, 1), 100_000, 0.5)
    assert abs((keep == other).mean() - 0.5) < 0.01  # next step: an independent-looking mask


def test_zeropad():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 2, 3, 4)).astype(np.float32)
    pad = (1, 2, 0, 3)
    ref, cache = zeropad2d_forward(x, pad)
    dout = rng.standard_normal(ref.shape).astype(np.float32)
    d_out, d_dx = poison(empty(ref.shape)), poison(empty(x.shape))
    pad_fwd_kernel[grid_1d(ref.size)](d_out, to_device(x), pad[0], pad[2])
    pad_bwd_kernel[grid_1d(x.size)](d_dx, to_device(dout), pad[0], pad[2])
    np.testing.assert_array_equal(d_out.copy_to_host(), ref)
    np.testing.assert_array_equal(d_dx.copy_to_host(), zeropad2d_backward(dout, cache))


@pytest.mark.parametrize("version", ["naive", "tiled"])
def test_linear(version):
    rng = np.random.default_rng(0)
    n, i, o = 3, 21 * BIG, 17 * BIG
    x = rng.standard_normal((n, i)).astype(np.float32)
    W = rng.standard_normal((o, i)).astype(np.float32)
    b = rng.standard_normal(o).astype(np.float32)
    ref, cache = np_linear.linear_forward(x, W, b)
    dout = rng.standard_normal(ref.shape).astype(np.float32)
    refs = np_linear.linear_backward(dout, cache)
    d_x, d_W = to_device(x), to_device(W)
    d_out = poison(empty(ref.shape))
    linear_forward(d_out, d_x, d_W, to_device(b), version)
    np.testing.assert_allclose(d_out.copy_to_host(), ref, rtol=1e-4, atol=1e-4)
    grads = [poison(empty(a.shape)) for a in (x, W, b)]
    linear_backward(*grads, to_device(dout), d_x, d_W, version)
    for got, want in zip(grads, refs, strict=True):
        np.testing.assert_allclose(got.copy_to_host(), want, rtol=1e-4, atol=1e-4)


def test_softmax_xent_large_logits():
    rng = np.random.default_rng(0)
    z = (rng.standard_normal((5, 7 * BIG)) * 300).astype(np.float32)  # exp overflows unshifted
    y = rng.integers(0, z.shape[1], 5)
    loss_ref, cache = softmax_xent_forward(z, y)
    d_loss, d_rows, d_dz = poison(empty(1)), poison(empty(5)), poison(empty(z.shape))
    softmax_xent(d_loss, d_rows, d_dz, to_device(z), to_device(y, np.int64))
    np.testing.assert_allclose(d_loss.copy_to_host()[0], loss_ref, rtol=1e-5)
    np.testing.assert_allclose(d_dz.copy_to_host(), softmax_xent_backward(1.0, cache),
                               rtol=1e-5, atol=1e-7)


def test_reductions():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 70 * BIG)).astype(np.float32)
    d_x = to_device(x)
    r, c = poison(empty(3)), poison(empty(x.shape[1]))
    sum_rows(r, d_x)
    sum_cols(c, d_x)
    np.testing.assert_allclose(r.copy_to_host(), x.sum(1), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(c.copy_to_host(), x.sum(0), rtol=1e-5, atol=1e-5)
    x4 = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    ch = poison(empty(3))
    sum_channels(ch, to_device(x4))
    np.testing.assert_allclose(ch.copy_to_host(), x4.sum((0, 2, 3)), rtol=1e-5, atol=1e-5)


def test_sgd_matches_optim():
    rng = np.random.default_rng(0)
    w, v, g = (rng.standard_normal(53 * BIG).astype(np.float32) for _ in range(3))
    w0, v0 = w.copy(), v.copy()
    d_w, d_v = to_device(w), to_device(v)
    opt = SGD({"w": w}, lr=0.03, momentum=0.9, weight_decay=0.0005)
    opt.velocity["w"][...] = v
    opt.step({"w": g})
    sgd_update(d_w, d_v, to_device(g), 0.03, 0.9, 0.0005)
    # on a GPU the compiler fuses a multiply and an add into one FMA (one rounding instead of
    # two), so results may differ from NumPy's by a few ulp of the operands (seen: 1 ulp)
    atol = 4 * np.finfo(np.float32).eps * max(np.abs(a).max() for a in (w0, v0, g))
    np.testing.assert_allclose(d_w.copy_to_host(), w, rtol=1e-6, atol=atol)
    np.testing.assert_allclose(d_v.copy_to_host(), opt.velocity["w"], rtol=1e-6, atol=atol)
