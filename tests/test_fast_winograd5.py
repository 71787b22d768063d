"""Winograd's F(3x3, 5x5) (alexnet_np/fast/winograd5.py) against hand-computed values, the
1-D identity it rests on, and the reference convolution (alexnet_np/layers/conv2d.py): odd
sizes, paddings 0-4, groups, float64 (tight) and float32."""

import numpy as np
import pytest

from alexnet_np.fast import winograd5
from alexnet_np.fast.conv2d import conv2d_forward_fast
from alexnet_np.layers import conv2d_forward

# float32: F(3x3, 5x5) rounds a few times worse than a direct sum (the module docstring:
# ~4e-6 of the largest output on conv2's shape), so its bound is relative to the output's
# scale; float64 must agree with the direct sum to rounding.
F32_SCALE_TOL = 2e-5


def test_one_dimension_hand_example():
    """d = 0..6, g = 1 1 1 1 1: y_i = d_i + ... + d_(i+4) = 10, 15, 20."""
    at, g, bt = winograd5.cook_toom(3, 5, winograd5.POINTS)
    d, w = np.arange(7.0), np.ones(5)
    np.testing.assert_allclose(at @ ((g @ w) * (bt @ d)), [10, 15, 20], rtol=1e-14)


def test_one_dimension_identity_on_random_data():
    """A^T [(G g) * (B^T d)] is the correlation y_i = sum_k d_(i+k) g_k, for any d and g."""
    rng = np.random.default_rng(0)
    at, g_mat, bt = winograd5.cook_toom(3, 5, winograd5.POINTS)
    for _ in range(20):
        d, g = rng.standard_normal(7), rng.standard_normal(5)
        direct = [d[i:i + 5] @ g for i in range(3)]
        np.testing.assert_allclose(at @ ((g_mat @ g) * (bt @ d)), direct, rtol=1e-12,
                                   atol=1e-13)


def test_cook_toom_needs_the_right_number_of_points():
    with pytest.raises(ValueError, match="needs 6 finite points"):
        winograd5.cook_toom(3, 5, (0.0, 1.0))


def test_hand_example_one_tile():
    """x = 0..48 as a 7x7 image, g = all ones, no padding: each output is the sum of a 5x5
    window: sum_(r<5, c<5) (7r + c) = 5*7*10 + 5*10 = 400, then +5*5 per step right and
    +5*5*7 per step down."""
    x = np.arange(49, dtype=np.float64).reshape(1, 1, 7, 7)
    W = np.ones((1, 1, 5, 5))
    out, _ = conv2d_forward_fast(x, W, np.zeros(1), 1, 0, 1)
    np.testing.assert_allclose(out[0, 0], [[400, 425, 450], [575, 600, 625],
                                           [750, 775, 800]], rtol=1e-13)


def test_filter_transform_is_g_g_gt():
    W = np.random.default_rng(1).standard_normal((3, 2, 5, 5))
    U = winograd5.transform_filters(W)  # (49, F, Cg)
    G = winograd5.G
    for f in range(3):
        for c in range(2):
            np.testing.assert_allclose(U[:, f, c].reshape(7, 7), G @ W[f, c] @ G.T,
                                       rtol=1e-13, atol=1e-14)


CASES = [  # (N, C, H, W, F, padding, groups)
    (2, 4, 27, 27, 6, 2, 2),   # conv2-like: 27x27, 9x9 tiles exactly
    (3, 3, 8, 11, 4, 0, 1),    # no padding, 4x7 output: the last tiles cropped
    (2, 2, 7, 6, 4, 1, 2),     # padding 1
    (1, 2, 4, 3, 3, 4, 1),     # padding 4: whole tiles of zeros
    (2, 4, 1, 1, 2, 2, 1),     # a 1x1 image: only the centre tap sees data
    (1, 1, 5, 5, 1, 0, 1),     # one output
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", CASES, ids=lambda c: "n{}c{}-{}x{}-f{}p{}g{}".format(*c))
def test_matches_reference(case, dtype):
    n, c, h, w, f, p, g = case
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    W = rng.standard_normal((f, c // g, 5, 5)).astype(dtype)
    b = rng.standard_normal(f).astype(dtype)
    out, _ = conv2d_forward_fast(x, W, b, 1, p, g)
    ref, _ = conv2d_forward(x, W, b, 1, p, g)
    assert out.dtype == dtype and out.shape == ref.shape
    if dtype == np.float64:
        np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12)
    else:
        exact, _ = conv2d_forward(x.astype(np.float64), W.astype(np.float64),
                                  b.astype(np.float64), 1, p, g)
        scale = np.abs(exact).max()
        assert np.abs(out - exact).max() <= F32_SCALE_TOL * scale
        # and no worse than a few times the direct float32 sum's own error
        assert np.abs(out - exact).max() <= 20 * max(np.abs(ref - exact).max(), 1e-7 * scale)


def test_small_chunks_give_the_same_bits(monkeypatch):
    """A chunk of one image at a time (V built per image) gives the same numbers."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 4, 9, 10)).astype(np.float32)
    W = rng.standard_normal((6, 4, 5, 5)).astype(np.float32)
    b = rng.standard_normal(6).astype(np.float32)
    whole, _ = conv2d_forward_fast(x, W, b, 1, 2, 1)
    monkeypatch.setattr(winograd5, "TILE_BYTES", 1)
    assert winograd5.chunks((0, 5), 4, 12, 4) == [(i, i + 1) for i in range(5)]
    one, _ = conv2d_forward_fast(x, W, b, 1, 2, 1)
    np.testing.assert_array_equal(whole, one)


# The input gradient by Winograd (fast/conv2d.py, DX_WINOGRAD): dout, padded by K - 1 - p,
# correlated with each group's filters transposed and turned by 180 degrees. Its float32
# rounding is that of a forward pass over dout's channels (signed, 128 a group in conv2):
# measured 1.0e-5 of the largest dx on conv2's shape at batch 32 with random dout (im2col +
# GEMM: 3e-7), hence its own scale-relative bound.
DX_F32_SCALE_TOL = 3e-5


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("k, c, f, size, pad, groups", [
    (5, 96, 256, 27, 2, 2),  # conv2 of the paper, one image
    (5, 6, 4, 11, 0, 2),
    (3, 32, 48, 13, 1, 2),  # conv4-like
    (3, 5, 7, 9, 0, 1),
])
def test_input_gradient_by_winograd(monkeypatch, dtype, k, c, f, size, pad, groups):
    from alexnet_np.fast import conv2d as fast_conv
    from alexnet_np.layers import conv2d_backward

    rng = np.random.default_rng(7)
    x = rng.standard_normal((1, c, size, size))
    W = rng.standard_normal((f, c // groups, k, k)) / np.sqrt(c // groups * k * k)
    b = np.zeros(f)
    _, cache = conv2d_forward(x, W, b, 1, pad, groups)
    out_size = size + 2 * pad - k + 1
    dout = rng.standard_normal((1, f, out_size, out_size))
    dx_ref, _, _ = conv2d_backward(dout, cache)  # float64, direct

    x, W, b, dout = (a.astype(dtype) for a in (x, W, b, dout))
    _, fast_cache = conv2d_forward_fast(x, W, b, 1, pad, groups)
    monkeypatch.setattr(fast_conv, "DX_WINOGRAD", True)
    dx_wino, dW_wino, _ = fast_conv.conv2d_backward_fast(dout, fast_cache)
    monkeypatch.setattr(fast_conv, "DX_WINOGRAD", False)
    dx_cols, dW_cols, _ = fast_conv.conv2d_backward_fast(dout, fast_cache)

    np.testing.assert_array_equal(dW_wino, dW_cols)  # only dx changes
    scale = np.abs(dx_ref).max()
    if dtype == np.float64:
        np.testing.assert_allclose(dx_wino, dx_ref, rtol=0, atol=1e-12 * scale)
    else:
        assert np.abs(dx_wino - dx_ref).max() <= DX_F32_SCALE_TOL * scale
        assert np.abs(dx_cols - dx_ref).max() <= 1e-6 * scale


# The weight gradient by Winograd along the rows (winograd5.weight_gradient): float32 rounds
# to ~3e-6 of the largest entry of dW on conv2's shape (measured 2.7e-6 at batch 32, 3.4e-6
# on the one-image case below; im2col: 4e-7; the 2-D scheme, not used: 2e-5), hence a
# scale-relative bound beside the elementwise one of tests/test_fast_layers.py.
DW_F32_SCALE_TOL = 1e-5


def test_weight_gradient_hand_example():
    """x = 0..48 (7x7), dout = ones (3x3), no padding: dW[u, v] is the sum of the 3x3 window
    of x at (u, v), 9 times its centre 7(u + 1) + v + 1: 72 + 63u + 9v."""
    from alexnet_np.fast.conv2d import conv2d_backward_fast

    x = np.arange(49, dtype=np.float64).reshape(1, 1, 7, 7)
    _, cache = conv2d_forward_fast(x, np.zeros((1, 1, 5, 5)), np.zeros(1), 1, 0, 1)
    _, dW, _ = conv2d_backward_fast(np.ones((1, 1, 3, 3)), cache, need_dx=False)
    u, v = np.mgrid[0:5, 0:5]
    np.testing.assert_allclose(dW[0, 0], 72 + 63 * u + 9 * v, rtol=1e-13)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n, c, f, size, pad, groups", [
    (1, 96, 256, 27, 2, 2),  # conv2 of the paper, one image
    (2, 4, 6, 9, 2, 2),
    (3, 3, 2, 5, 0, 1),  # kernel = input
    (1, 2, 4, 10, 1, 1),  # even size: the last row tile is cut
    (2, 2, 3, 4, 4, 1),  # padding 4: rows of zeros
])
def test_weight_gradient_matches_reference(dtype, n, c, f, size, pad, groups):
    from alexnet_np.fast.conv2d import conv2d_backward_fast
    from alexnet_np.layers import conv2d_backward

    rng = np.random.default_rng(8)
    x = rng.standard_normal((n, c, size, size))
    W = rng.standard_normal((f, c // groups, 5, 5))
    _, cache = conv2d_forward(x, W, np.zeros(f), 1, pad, groups)
    out_size = size + 2 * pad - 4
    dout = rng.standard_normal((n, f, out_size, out_size))
    _, dW_ref, _ = conv2d_backward(dout, cache)  # float64, direct
    x, W, dout = (a.astype(dtype) for a in (x, W, dout))
    _, fast_cache = conv2d_forward_fast(x, W, np.zeros(f, dtype), 1, pad, groups)
    _, dW, _ = conv2d_backward_fast(dout, fast_cache, need_dx=False)
    assert dW.dtype == dtype and dW.shape == dW_ref.shape
    scale = np.abs(dW_ref).max()
    if dtype == np.float64:
        np.testing.assert_allclose(dW, dW_ref, rtol=0, atol=1e-13 * scale)
    else:
        assert np.abs(dW - dW_ref).max() <= DW_F32_SCALE_TOL * scale


def test_weight_gradient_in_small_chunks(monkeypatch):
    """One image a chunk (later chunks' products added to the first's) and one job: the same
    weight gradient, up to float32 rounding, as one chunk per job, and as im2col."""
    from alexnet_np.fast import conv2d as fast_conv

    rng = np.random.default_rng(9)
    x = rng.standard_normal((5, 4, 9, 10)).astype(np.float32)
    W = rng.standard_normal((6, 2, 5, 5)).astype(np.float32)
    out, cache = conv2d_forward_fast(x, W, np.zeros(6, np.float32), 1, 2, 2)
    dout = rng.standard_normal(out.shape).astype(np.float32)
    _, whole, _ = fast_conv.conv2d_backward_fast(dout, cache, need_dx=False)
    monkeypatch.setattr(winograd5, "GRAD_TILE_BYTES", 1)
    monkeypatch.setattr(fast_conv, "MAX_JOBS", 1)
    _, chunked, _ = fast_conv.conv2d_backward_fast(dout, cache, need_dx=False)
    np.testing.assert_allclose(chunked, whole, rtol=2e-5, atol=2e-5)
    monkeypatch.setattr(fast_conv, "DW_WINOGRAD", False)
    _, im2col, _ = fast_conv.conv2d_backward_fast(dout, cache, need_dx=False)
    np.testing.assert_allclose(im2col, whole, rtol=2e-5, atol=2e-5)


def test_filter_gradient_adds_the_parts_then_applies_g_on_the_rows():
    parts = np.random.default_rng(10).standard_normal((3, 2, 7, 5, 4, 3))  # (jobs, groups, ...)
    dW = winograd5.filter_gradient(parts)  # (8, 3, 5, 5)
    total = parts.sum(axis=0)  # (groups, 7 [a], 5 [v], Fg, Cg)
    expect = np.einsum("au,gavfc->gfcuv", winograd5.G, total).reshape(8, 3, 5, 5)
    np.testing.assert_allclose(dW, expect, rtol=1e-13, atol=1e-13)
