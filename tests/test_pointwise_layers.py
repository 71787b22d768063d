"""ReLU, Tanh, Dropout, Linear, Flatten: gradient checks, hand-computed values, contracts."""

import numpy as np
import pytest

from alexnet_np.gradcheck import TOLERANCE, away_from_zero, check_layer
from alexnet_np.layers import Dropout, Flatten, Linear, ReLU, Tanh


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (1, 7), (3, 1, 1, 1)],
                         ids=lambda shape: "x".join(map(str, shape)))
def test_relu_gradcheck(shape):
    rng = np.random.default_rng(0)
    errors = check_layer(ReLU(), away_from_zero(rng, shape), rng)
    assert errors["dx"] < TOLERANCE


def test_relu_values():
    relu = ReLU()
    out = relu.forward(np.array([[-2.0, -0.0, 0.0, 3.0]]))
    np.testing.assert_array_equal(out, [[0, 0, 0, 3]])
    np.testing.assert_array_equal(relu.backward(np.array([[1.0, 2.0, 3.0, 4.0]])),
                                  [[0, 0, 0, 4]])


def test_tanh_gradcheck_and_values():
    rng = np.random.default_rng(1)
    assert check_layer(Tanh(), rng.standard_normal((3, 4)), rng)["dx"] < TOLERANCE
    t = Tanh()
    t.forward(np.array([0.0]))
    np.testing.assert_array_equal(t.backward(np.array([2.0])), [2.0])


def _reseeding(layer, seed=7):
    def reseed():
        layer.rng = np.random.default_rng(seed)
    return reseed


@pytest.mark.parametrize("p", [0.5, 0.2, 0.9])
def test_dropout_gradcheck(p):
    rng = np.random.default_rng(2)
    layer = Dropout(p)
    errors = check_layer(layer, rng.standard_normal((4, 6)), rng, before_forward=_reseeding(layer))
    assert errors["dx"] < TOLERANCE


def test_dropout_mask_and_expectation():
    x = np.ones((200, 500))
    layer = Dropout(0.5, rng=np.random.default_rng(3))
    out = layer.forward(x)
    assert set(np.unique(out)) == {0.0, 2.0}  # kept units are scaled by 1/(1-p)
    assert abs(out.mean() - 1.0) < 0.01  # expectation preserved (100,000 units)
    assert abs((out == 0).mean() - 0.5) < 0.01
    dx = layer.backward(np.ones_like(x))
    np.testing.assert_array_equal(dx, out)  # the same units are dropped going back


def test_dropout_eval_is_identity_and_generator_reproduces():
    x = np.random.default_rng(4).standard_normal((3, 4)).astype(np.float32)
    layer = Dropout(0.5).eval()
    np.testing.assert_array_equal(layer.forward(x), x)
    a = Dropout(0.5, rng=np.random.default_rng(5)).forward(x)
    b = Dropout(0.5, rng=np.random.default_rng(5)).forward(x)
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.float32
    assert not np.array_equal(a, Dropout(0.5, rng=np.random.default_rng(6)).forward(x))


def test_dropout_extremes():
    x = np.ones((2, 3))
    np.testing.assert_array_equal(Dropout(0.0).forward(x), x)
    np.testing.assert_array_equal(Dropout(1.0).forward(x), 0 * x)
    with pytest.raises(ValueError, match="Dropout: p must be between 0 and 1"):
        Dropout(1.5)


@pytest.mark.parametrize("n, i, o", [(3, 5, 4), (1, 12, 7), (5, 1, 1)],
                         ids=["n3-5to4", "n1-12to7", "n5-1to1"])
def test_linear_gradcheck(n, i, o):
    rng = np.random.default_rng(7)
    layer = Linear(i, o, rng=rng, dtype=np.float64, std=1.0)
    layer.params["b"][:] = rng.standard_normal(o)
    errors = check_layer(layer, rng.standard_normal((n, i)), rng)
    assert max(errors.values()) < TOLERANCE, errors


def test_linear_hand_computed():
    layer = Linear(2, 2, dtype=np.float64)
    layer.params["W"][:] = [[1.0, 2.0], [3.0, 4.0]]
    layer.params["b"][:] = [0.5, -0.5]
    x = np.array([[1.0, 1.0], [2.0, 0.0]])
    np.testing.assert_array_equal(layer.forward(x), [[3.5, 6.5], [2.5, 5.5]])
    dx = layer.backward(np.array([[1.0, 0.0], [0.0, 1.0]]))
    np.testing.assert_array_equal(dx, [[1.0, 2.0], [3.0, 4.0]])
    # dW sums over the WHOLE batch: row o gets sum_n dout[n, o] * x[n]
    np.testing.assert_array_equal(layer.grads["W"], [[1.0, 1.0], [2.0, 0.0]])
    np.testing.assert_array_equal(layer.grads["b"], [1.0, 1.0])


def test_linear_bad_input():
    with pytest.raises(ValueError, match=r"Linear: expected input of shape \(N, 4\), "
                                         r"got shape \(2, 5\)"):
        Linear(4, 3).forward(np.zeros((2, 5), np.float32))


def test_flatten_roundtrip():
    rng = np.random.default_rng(8)
    x = rng.standard_normal((2, 256, 6, 6)).astype(np.float32)
    f = Flatten()
    out = f.forward(x)
    assert out.shape == (2, 9216) and out.dtype == np.float32
    np.testing.assert_array_equal(out[1, 36:72], x[1, 1].ravel())  # C-order, like PyTorch
    np.testing.assert_array_equal(f.backward(out), x)
    assert check_layer(f, rng.standard_normal((2, 3, 2, 2)), rng)["dx"] < TOLERANCE


@pytest.mark.parametrize("layer", [ReLU(), Tanh(), Dropout(0.3), Flatten()], ids=repr)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_and_input_untouched(layer, dtype):
    x = np.random.default_rng(9).standard_normal((2, 3, 4, 4)).astype(dtype)
    x_copy = x.copy()
    out = layer.forward(x)
    assert out.dtype == dtype and layer.backward(out).dtype == dtype
    np.testing.assert_array_equal(x, x_copy)


def test_non_float_input_rejected():
    with pytest.raises(ValueError, match="ReLU: expected float32 or float64 input"):
        ReLU().forward(np.zeros((2, 2), dtype=np.int64))


def test_zeropad2d():
    from alexnet_np.layers import ZeroPad2d
    rng = np.random.default_rng(10)
    layer = ZeroPad2d((0, 3, 1, 2))
    x = rng.standard_normal((1, 2, 4, 5))
    out = layer.forward(x)
    assert out.shape == (1, 2, 7, 8)
    np.testing.assert_array_equal(out[:, :, 0:4, 1:6], x)
    assert out.sum() == pytest.approx(x.sum())
    assert check_layer(layer, x, rng)["dx"] < TOLERANCE
