"""MaxPool2d: overlapping windows, ties, gradient checks against finite differences and loops."""

import numpy as np
import pytest

from alexnet_np.gradcheck import TOLERANCE, assert_close, check_layer, distinct_values
from alexnet_np.layers import (
    MaxPool2d,
    maxpool2d_backward,
    maxpool2d_backward_naive,
    maxpool2d_forward,
    maxpool2d_forward_naive,
)

CONFIGS = [  # (shape, kernel, stride)
    ((2, 3, 7, 7), 3, 2),  # the paper's overlapping pooling
    ((1, 2, 8, 6), 2, 2),  # non-overlapping
    ((1, 2, 13, 13), 3, 2),
    ((3, 1, 9, 10), 3, 1),  # heavy overlap
    ((1, 1, 5, 5), 5, 1),  # one window
    ((1, 2, 6, 7), 2, 3),  # gaps between windows
]


@pytest.mark.parametrize("shape, k, s", CONFIGS, ids=[f"{'x'.join(map(str, shape))}-k{k}s{s}"
                                                       for shape, k, s in CONFIGS])
def test_gradcheck(shape, k, s):
    rng = np.random.default_rng(0)
    errors = check_layer(MaxPool2d(k, s), distinct_values(rng, shape), rng)
    assert max(errors.values()) < TOLERANCE, errors


@pytest.mark.parametrize("shape, k, s", CONFIGS, ids=[f"{'x'.join(map(str, shape))}-k{k}s{s}"
                                                       for shape, k, s in CONFIGS])
def test_matches_naive_oracle_with_ties(shape, k, s):
    # Small integers make ties frequent: both must send the gradient to the first maximum.
    rng = np.random.default_rng(1)
    x = rng.integers(0, 3, size=shape).astype(np.float64)
    out, cache = maxpool2d_forward(x, k, s)
    out_ref, cache_ref = maxpool2d_forward_naive(x, k, s)
    np.testing.assert_array_equal(out, out_ref)
    dout = rng.standard_normal(out.shape)
    assert_close(maxpool2d_backward(dout, cache), maxpool2d_backward_naive(dout, cache_ref),
                 1e-14, "dx")


def test_overlapping_windows_accumulate():
    # 1x5 row pooled with window 3, stride 2: windows [0..2] and [2..4] share column 2.
    x = np.array([[0.0, 1.0, 9.0, 2.0, 3.0]] * 3).reshape(1, 1, 3, 5)
    pool = MaxPool2d(3, 2)
    out = pool.forward(x)
    np.testing.assert_array_equal(out, [[[[9.0, 9.0]]]])
    dx = pool.backward(np.array([[[[1.0, 10.0]]]]))
    # the single maximum at (0, 2) wins both windows and receives 1 + 10
    expected = np.zeros((1, 1, 3, 5))
    expected[0, 0, 0, 2] = 11.0
    np.testing.assert_array_equal(dx, expected)


def test_ties_go_to_first_maximum():
    x = np.ones((1, 1, 2, 2))
    pool = MaxPool2d(2, 2)
    pool.forward(x)
    dx = pool.backward(np.array([[[[5.0]]]]))
    np.testing.assert_array_equal(dx[0, 0], [[5.0, 0.0], [0.0, 0.0]])


def test_alexnet_sizes():
    pool = MaxPool2d(3, 2)
    for size, expected in [(55, 27), (27, 13), (13, 6)]:
        assert pool.forward(np.zeros((1, 1, size, size), np.float32)).shape[-1] == expected


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_and_input_untouched(dtype):
    x = np.random.default_rng(2).standard_normal((2, 3, 7, 7)).astype(dtype)
    x_copy = x.copy()
    pool = MaxPool2d(3, 2)
    out = pool.forward(x)
    assert out.dtype == dtype and pool.backward(out).dtype == dtype
    np.testing.assert_array_equal(x, x_copy)


def test_bad_input():
    with pytest.raises(ValueError, match=r"MaxPool2d: window 3x3 is larger than the input"):
        MaxPool2d(3, 2).forward(np.zeros((1, 1, 2, 2)))
    with pytest.raises(ValueError, match=r"MaxPool2d: expected input of shape \(N, C, H, W\)"):
        MaxPool2d(3, 2).forward(np.zeros((2, 2, 2)))
