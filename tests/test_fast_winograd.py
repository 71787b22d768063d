"""Winograd's F(2x2, 3x3) (alexnet_np/fast/winograd.py) against hand-computed values and the
reference convolution (alexnet_np/layers/conv2d.py): odd and even sizes, paddings 0-3,
groups, float64 (tight) and float32, and which layers of the paper use it. The forward pass
and the weight gradient (the tiles read backwards)."""

import numpy as np
import pytest

from alexnet_np.fast import conv2d as fast_conv2d
from alexnet_np.fast import winograd, winograd5
from alexnet_np.fast.conv2d import conv2d_backward_fast, conv2d_forward_fast, use_winograd
from alexnet_np.layers import conv2d_backward, conv2d_forward
from alexnet_np.model import build_model

TOL = {np.float64: dict(rtol=1e-12, atol=1e-12), np.float32: dict(rtol=2e-5, atol=2e-5)}


def test_hand_example_one_tile():
    """x = 0..15 as a 4x4 image, g = all ones, no padding: each output is the sum of a 3x3
    window: 0+1+2+4+5+6+8+9+10 = 45, then +9 per step right, +36 per step down."""
    x = np.arange(16, dtype=np.float64).reshape(1, 1, 4, 4)
    W = np.ones((1, 1, 3, 3))
    out, _ = conv2d_forward_fast(x, W, np.zeros(1), 1, 0, 1)
    np.testing.assert_array_equal(out[0, 0], [[45, 54], [81, 90]])


def test_filter_transform_is_g_g_gt():
    G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]])
    W = np.random.default_rng(1).standard_normal((3, 2, 3, 3))
    U = winograd.transform_filters(W)  # (16, F, Cg)
    for f in range(3):
        for c in range(2):
            np.testing.assert_allclose(U[:, f, c].reshape(4, 4), G @ W[f, c] @ G.T,
                                       rtol=1e-14, atol=1e-15)


CASES = [  # (N, C, H, W, F, padding, groups)
    (2, 4, 13, 13, 6, 1, 2),   # conv4/5-like: 13x13, 7x7 tiles, the last ones cropped
    (3, 3, 6, 5, 4, 0, 1),     # no padding, even x odd
    (2, 2, 5, 8, 4, 2, 2),     # padding 2
    (1, 2, 4, 3, 3, 3, 1),     # padding 3: whole tiles of zeros
    (2, 4, 1, 1, 2, 1, 1),     # a 1x1 image: only the centre tap sees data
    (1, 1, 3, 3, 1, 0, 1),     # one output
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", CASES, ids=lambda c: "n{}c{}-{}x{}-f{}p{}g{}".format(*c))
def test_matches_reference(case, dtype):
    n, c, h, w, f, p, g = case
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    W = rng.standard_normal((f, c // g, 3, 3)).astype(dtype)
    b = rng.standard_normal(f).astype(dtype)
    out, _ = conv2d_forward_fast(x, W, b, 1, p, g)
    ref, _ = conv2d_forward(x, W, b, 1, p, g)
    assert out.dtype == dtype and out.shape == ref.shape
    np.testing.assert_allclose(out, ref, **TOL[dtype])


def test_small_chunks_give_the_same_bits(monkeypatch):
    """A chunk of one image at a time (V built per image) gives the same numbers."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 4, 7, 9)).astype(np.float32)
    W = rng.standard_normal((6, 4, 3, 3)).astype(np.float32)
    b = rng.standard_normal(6).astype(np.float32)
    whole, _ = conv2d_forward_fast(x, W, b, 1, 1, 1)
    monkeypatch.setattr(winograd, "TILE_BYTES", 1)
    assert winograd.chunks((0, 5), 4, 20, 4) == [(i, i + 1) for i in range(5)]
    one, _ = conv2d_forward_fast(x, W, b, 1, 1, 1)
    np.testing.assert_array_equal(whole, one)


def test_paper_conv2_to_conv5_use_it_and_the_switch_turns_it_off(monkeypatch):
    model = build_model("paper", fast=True)
    used = {name: use_winograd(layer.params["W"], layer.stride)
            for name, layer in model.layers if name.startswith("conv")}
    assert used == {"conv1": None, "conv2": winograd5, "conv3": winograd, "conv4": winograd,
                    "conv5": winograd}
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 4, 6, 6))
    W = rng.standard_normal((3, 4, 3, 3))
    b = np.zeros(3)
    monkeypatch.setattr(fast_conv2d, "WINOGRAD", False)
    assert use_winograd(W, 1) is None
    im2col_out, _ = conv2d_forward_fast(x, W, b, 1, 1, 1)
    monkeypatch.setattr(fast_conv2d, "WINOGRAD", True)
    wino_out, _ = conv2d_forward_fast(x, W, b, 1, 1, 1)
    np.testing.assert_allclose(wino_out, im2col_out, rtol=1e-12, atol=1e-12)


def test_dout_transform_is_a_p_at():
    """One tile: E = A P A^T with A = [[1, 0], [1, 1], [1, -1], [0, -1]], by hand for
    P = [[1, 2], [3, 4]]: A P = [[1, 2], [4, 6], [-2, -2], [-3, -4]], then times A^T."""
    dc = np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 1, 2, 2)
    e = np.empty((16, 1, 1))
    winograd.dout_transform(e, dc, 0, 1, 1, 1)
    np.testing.assert_array_equal(e[:, 0, 0].reshape(4, 4), [[1, 3, -1, -2],
                                                             [4, 10, -2, -6],
                                                             [-2, -4, 0, 2],
                                                             [-3, -7, 1, 4]])


def test_weight_gradient_hand_example():
    """x = 0..15 (4x4), dout = all ones (2x2), no padding: dW[u, v] is the sum of the 2x2
    window of x at (u, v): 0+1+4+5 = 10, then +4 per step right, +16 per step down."""
    x = np.arange(16, dtype=np.float64).reshape(1, 1, 4, 4)
    _, cache = conv2d_forward_fast(x, np.zeros((1, 1, 3, 3)), np.zeros(1), 1, 0, 1)
    _, dW, _ = conv2d_backward_fast(np.ones((1, 1, 2, 2)), cache, need_dx=False)
    np.testing.assert_array_equal(dW[0, 0], [[10, 14, 18], [26, 30, 34], [42, 46, 50]])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", CASES, ids=lambda c: "n{}c{}-{}x{}-f{}p{}g{}".format(*c))
def test_weight_gradient_matches_reference(case, dtype):
    n, c, h, w, f, p, g = case
    rng = np.random.default_rng(1)
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    W = rng.standard_normal((f, c // g, 3, 3)).astype(dtype)
    b = np.zeros(f, dtype=dtype)
    out, cache = conv2d_forward_fast(x, W, b, 1, p, g)
    _, ref_cache = conv2d_forward(x, W, b, 1, p, g)
    dout = rng.standard_normal(out.shape).astype(dtype)
    _, dW, db = conv2d_backward_fast(dout, cache, need_dx=False)
    _, dW_ref, db_ref = conv2d_backward(dout, ref_cache)
    assert dW.dtype == dtype and dW.shape == dW_ref.shape
    np.testing.assert_allclose(dW, dW_ref, **TOL[dtype])
    np.testing.assert_allclose(db, db_ref, **TOL[dtype])


def test_weight_gradient_in_small_chunks(monkeypatch):
    """One image a chunk (the products of later chunks added to the first's) and one job:
    the same weight gradient as one chunk per job, up to float32 rounding."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((6, 4, 7, 9)).astype(np.float32)
    W = rng.standard_normal((6, 2, 3, 3)).astype(np.float32)
    out, cache = conv2d_forward_fast(x, W, np.zeros(6, np.float32), 1, 1, 2)
    dout = rng.standard_normal(out.shape).astype(np.float32)
    _, whole, _ = conv2d_backward_fast(dout, cache, need_dx=False)
    monkeypatch.setattr(winograd, "GRAD_TILE_BYTES", 1)
    monkeypatch.setattr(fast_conv2d, "MAX_JOBS", 1)
    _, chunked, _ = conv2d_backward_fast(dout, cache, need_dx=False)
    np.testing.assert_allclose(chunked, whole, **TOL[np.float32])
    monkeypatch.setattr(fast_conv2d, "DW_WINOGRAD", False)
    _, im2col, _ = conv2d_backward_fast(dout, cache, need_dx=False)
    np.testing.assert_allclose(im2col, whole, **TOL[np.float32])


def test_filter_gradient_adds_the_parts_then_applies_g():
    G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]])
    parts = np.random.default_rng(5).standard_normal((3, 2, 16, 4, 5))  # (jobs, groups, ...)
    dW = winograd.filter_gradient(parts)  # (8, 5, 3, 3)
    total = parts.sum(axis=0)
    for g in range(2):
        for f in range(4):
            for c in range(5):
                s = total[g, :, f, c].reshape(4, 4)
                np.testing.assert_allclose(dW[4 * g + f, c], G.T @ s @ G, rtol=1e-13, atol=1e-13)
