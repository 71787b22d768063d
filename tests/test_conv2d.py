"""Conv2d: gradient checks, fast-vs-naive agreement, hand-computed values, bad input."""

import numpy as np
import pytest

from alexnet_np.gradcheck import CONV_CASES, TOLERANCE, assert_close, check_layer
from alexnet_np.layers import (
    Conv2d,
    conv2d_backward,
    conv2d_backward_naive,
    conv2d_forward,
    conv2d_forward_naive,
)

CONFIGS = [tuple(case)[1:] for case in CONV_CASES]
IDS = [case.name for case in CONV_CASES]


def make(rng, n, c, h, w, f, k, s, p, g, dtype=np.float64):
    layer = Conv2d(c, f, k, stride=s, padding=p, groups=g, rng=rng, dtype=dtype, std=1.0)
    layer.params["b"][:] = rng.standard_normal(f)
    return layer, rng.standard_normal((n, c, h, w)).astype(dtype)


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_gradcheck(config):
    rng = np.random.default_rng(1)
    layer, x = make(rng, *config)
    errors = check_layer(layer, x, rng)
    assert max(errors.values()) < TOLERANCE, errors


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_fast_matches_naive_oracle(config):
    rng = np.random.default_rng(2)
    layer, x = make(rng, *config)
    W, b = layer.params["W"], layer.params["b"]
    _, _, _, _, _, _, s, p, g = config
    out, cache = conv2d_forward(x, W, b, s, p, g)
    out_ref, cache_ref = conv2d_forward_naive(x, W, b, s, p, g)
    assert_close(out, out_ref, 1e-12, "out")
    dout = rng.standard_normal(out.shape)
    for got, want, name in zip(conv2d_backward(dout, cache),
                               conv2d_backward_naive(dout, cache_ref), ["dx", "dW", "db"],
                               strict=True):
        assert_close(got, want, 1e-12, name)


def test_hand_computed_values():
    # 1 image, 1 channel, 3x3 input, one 2x2 filter, stride 1: each output is a 2x2 dot product.
    x = np.arange(9, dtype=np.float64).reshape(1, 1, 3, 3)
    W = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    b = np.array([0.5])
    out, cache = conv2d_forward(x, W, b)
    # out[0,0] = 0*1 + 1*2 + 3*3 + 4*4 + 0.5 = 27.5 ; each step right adds 1+2+3+4 = 10,
    # each step down adds 3 * 10 = 30.
    np.testing.assert_array_equal(out[0, 0], [[27.5, 37.5], [57.5, 67.5]])
    dx, dW, db = conv2d_backward(np.ones_like(out), cache)
    np.testing.assert_array_equal(db, [4.0])
    # dW[u, v] = sum of the 2x2 block of x starting at (u, v)
    np.testing.assert_array_equal(dW[0, 0], [[0 + 1 + 3 + 4, 1 + 2 + 4 + 5],
                                             [3 + 4 + 6 + 7, 4 + 5 + 7 + 8]])
    # dx: how many windows cover each pixel, weighted by W
    np.testing.assert_array_equal(dx[0, 0], [[1, 3, 2], [4, 10, 6], [3, 7, 4]])


def test_groups_are_independent_halves():
    # groups=2 is the paper's two-GPU split: output half 0 must not depend on input half 1.
    rng = np.random.default_rng(3)
    layer, x = make(rng, 1, 4, 6, 6, 4, 3, 1, 1, 2)
    out = layer.forward(x)
    x2 = x.copy()
    x2[:, 2:] += 5.0  # change only the second half of the input channels
    out2 = layer.forward(x2)
    np.testing.assert_array_equal(out[:, :2], out2[:, :2])
    assert not np.allclose(out[:, 2:], out2[:, 2:])


ALEXNET_CONVS = [  # name, C, H = W, F, K, stride, padding, groups
    ("conv1", 3, 227, 96, 11, 4, 0, 1),
    ("conv2", 96, 27, 256, 5, 1, 2, 2),
    ("conv3", 256, 13, 384, 3, 1, 1, 1),
    ("conv4", 384, 13, 384, 3, 1, 1, 2),
    ("conv5", 384, 13, 256, 3, 1, 1, 2),
]


@pytest.mark.parametrize("name, c, h, f, k, s, p, g", ALEXNET_CONVS,
                         ids=[row[0] for row in ALEXNET_CONVS])
def test_alexnet_shapes_sampled_gradcheck(name, c, h, f, k, s, p, g):
    # The exact AlexNet layers at batch 1; 12 randomly chosen entries of each gradient.
    rng = np.random.default_rng(4)
    layer = Conv2d(c, f, k, stride=s, padding=p, groups=g, rng=rng, dtype=np.float64)
    layer.params["b"][:] = 1.0
    x = rng.standard_normal((1, c, h, h))
    errors = check_layer(layer, x, rng, sample=12)
    assert max(errors.values()) < TOLERANCE, errors
    assert layer.forward(x).shape == (1, f, {227: 55, 27: 27, 13: 13}[h], {227: 55, 27: 27,
                                                                          13: 13}[h])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_preserved_and_input_untouched(dtype):
    rng = np.random.default_rng(5)
    layer, x = make(rng, 2, 4, 7, 7, 4, 3, 2, 1, 2, dtype=np.float32)
    x = x.astype(dtype)
    x_copy = x.copy()
    out = layer.forward(x)
    dx = layer.backward(np.ones_like(out))
    assert out.dtype == dtype and dx.dtype == dtype
    assert layer.grads["W"].dtype == np.float32
    assert set(layer.grads) == set(layer.params)
    assert layer.grads["W"].shape == layer.params["W"].shape
    np.testing.assert_array_equal(x, x_copy)


def test_float32_matches_float64():
    rng = np.random.default_rng(6)
    layer, x = make(rng, 2, 4, 9, 9, 6, 3, 2, 1, 2)
    out64 = layer.forward(x)
    out32 = layer.forward(x.astype(np.float32))
    assert_close(out32, out64, 1e-5, "float32 out")


def test_params_read_afresh():
    rng = np.random.default_rng(7)
    layer, x = make(rng, 1, 2, 5, 5, 2, 3, 1, 0, 1)
    layer.params["W"] = np.zeros_like(layer.params["W"])  # replaced by the user
    layer.params["b"][:] = 2.0  # updated in place
    np.testing.assert_array_equal(layer.forward(x), 2.0)


@pytest.mark.parametrize("x_shape, message", [
    ((3, 8, 8), r"Conv2d: expected input of shape \(N, 3, H, W\), got shape \(3, 8, 8\)"),
    ((1, 4, 8, 8), r"Conv2d: expected input of shape \(N, 3, H, W\), got shape \(1, 4, 8, 8\)"),
    ((1, 3, 2, 8), r"Conv2d: kernel 3x3 is larger than the padded input 2x8"),
], ids=["no-batch-axis", "wrong-channels", "kernel-larger-than-input"])
def test_bad_input(x_shape, message):
    layer = Conv2d(3, 4, 3)
    with pytest.raises(ValueError, match=message):
        layer.forward(np.zeros(x_shape, dtype=np.float32))


def test_bad_groups():
    with pytest.raises(ValueError, match="divisible by groups"):
        Conv2d(3, 4, 3, groups=2)
