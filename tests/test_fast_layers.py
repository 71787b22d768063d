"""Every fast op (alexnet_np/fast) against its reference functional pair (alexnet_np/layers).

Forward and backward, float64 (tight) and float32 (float32 rounding), odd shapes, stride 4,
padding, groups 2, overlapping pooling with ties, both memory orders (NCHW and the fast path's
channel-major CNHW), and the contract: shapes, dtypes, input untouched. Small shapes keep the
Numba compile (cached on disk) and the run short.
"""

import numpy as np
import pytest

import alexnet_np.fast.threads as threads
from alexnet_np.fast import (
    FastConv2d,
    FastLocalResponseNorm,
    FastMaxPool2d,
    conv2d_backward_fast,
    conv2d_forward_fast,
    lrn_backward_fast,
    lrn_forward_fast,
    maxpool2d_backward_fast,
    maxpool2d_forward_fast,
    winograd,
)
from alexnet_np.fast import conv2d as fast_conv2d
from alexnet_np.fast.layout import order_of
from alexnet_np.layers import (
    Conv2d,
    LocalResponseNorm,
    MaxPool2d,
    conv2d_backward,
    conv2d_forward,
    lrn_backward,
    lrn_forward,
    maxpool2d_backward,
    maxpool2d_forward,
)

TOL = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=2e-4, atol=2e-5)}


def channel_major(a):
    """The same values, (N, C, H, W) shape, stored CNHW (as the fast layers produce)."""
    return np.ascontiguousarray(a.transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3)


def close(a, b, dtype):
    assert a.dtype == dtype and a.shape == b.shape
    np.testing.assert_allclose(a, b, **TOL[dtype])


CONV_CASES = [  # (N, C, H, W, F, K, stride, padding, groups)
    (2, 3, 23, 19, 4, 11, 4, 0, 1),   # conv1-like: 11x11 stride 4, odd sizes
    (2, 4, 9, 8, 6, 5, 1, 2, 2),      # conv2-like: 5x5 pad 2, groups 2
    (3, 6, 7, 7, 4, 3, 1, 1, 2),      # conv4/5-like
    (1, 2, 6, 5, 3, 3, 2, 1, 1),      # stride 2 with padding, N = 1
    (2, 3, 5, 5, 2, 5, 1, 0, 1),      # kernel = input
    (2, 4, 8, 7, 6, 3, 1, 0, 2),      # 3x3 without padding: dx by Winograd with padding 2
    (1, 2, 9, 10, 4, 5, 1, 1, 1),     # 5x5 with padding 1: dx by Winograd with padding 3
    (1, 2, 4, 4, 3, 3, 1, 3, 1),      # padding 3 > K - 1: dx by im2col (no Winograd)
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", CONV_CASES,
                         ids=lambda c: "n{}c{}-{}x{}-f{}k{}-s{}p{}g{}".format(*c))
@pytest.mark.parametrize("layout", ["nchw", "cnhw"])
def test_conv2d_matches_reference(case, dtype, layout):
    n, c, h, w, f, k, s, p, g = case
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    if layout == "cnhw":
        x = channel_major(x)
    W = rng.standard_normal((f, c // g, k, k)).astype(dtype)
    b = rng.standard_normal(f).astype(dtype)
    x_before = x.copy()
    out, cache = conv2d_forward_fast(x, W, b, s, p, g)
    out_ref, cache_ref = conv2d_forward(x, W, b, s, p, g)
    close(out, out_ref, dtype)
    dout = channel_major(rng.standard_normal(out.shape).astype(dtype))
    dx, dW, db = conv2d_backward_fast(dout, cache)
    dx_ref, dW_ref, db_ref = conv2d_backward(dout, cache_ref)
    close(dx, dx_ref, dtype)
    close(dW, dW_ref, dtype)
    close(db, db_ref, dtype)
    dx_none, dW2, _ = conv2d_backward_fast(np.ascontiguousarray(dout), cache, need_dx=False)
    assert dx_none is None
    close(dW2, dW_ref, dtype)
    np.testing.assert_array_equal(x, x_before)  # the input is never changed


LRN_CASES = [  # (N, C, H, W, size, alpha, beta, k)
    (2, 7, 3, 5, 5, 1e-4, 0.75, 2.0),   # the paper's constants
    (2, 7, 3, 5, 5, 0.2, 0.75, 2.0),    # large alpha, so the window sum matters
    (1, 3, 4, 2, 5, 0.5, 0.75, 2.0),    # fewer channels than the window
    (2, 6, 2, 3, 4, 0.2, 0.5, 1.0),     # even size, other beta
    (3, 1, 2, 2, 5, 0.5, 0.75, 2.0),    # one channel
    (2, 9, 33, 33, 3, 0.3, 0.9, 1.5),   # more than one block of positions
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", LRN_CASES,
                         ids=lambda c: "n{}c{}-{}x{}-size{}-alpha{}-beta{}-k{}".format(*c))
@pytest.mark.parametrize("layout", ["nchw", "cnhw"])
def test_lrn_matches_reference(case, dtype, layout):
    n, c, h, w, size, alpha, beta, k = case
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((n, c, h, w)) * 3).astype(dtype)
    if layout == "cnhw":
        x = channel_major(x)
    x_before = x.copy()
    out, cache = lrn_forward_fast(x, size, alpha, beta, k)
    out_ref, cache_ref = lrn_forward(x, size, alpha, beta, k)
    close(out, out_ref, dtype)
    assert order_of(out) == order_of(x)
    dout = rng.standard_normal(out.shape).astype(dtype)  # NCHW, whatever x was
    close(lrn_backward_fast(dout, cache), lrn_backward(dout, cache_ref), dtype)
    np.testing.assert_array_equal(x, x_before)


POOL_CASES = [  # (N, C, H, W, kernel, stride)
    (2, 3, 11, 11, 3, 2),   # overlapping, like AlexNet's 55 -> 27 but small
    (2, 3, 13, 12, 3, 2),   # odd/even sizes
    (1, 2, 8, 8, 2, 2),     # non-overlapping
    (2, 2, 9, 7, 3, 1),     # stride 1: heavy overlap
    (1, 2, 55, 56, 3, 2),   # wide: a row of outputs at a time (maxpool3_forward_rows)
    (1, 2, 30, 52, 3, 1),   # wide, stride 1
    (1, 1, 20, 80, 3, 3),   # wide, stride 3: three column phases
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", POOL_CASES, ids=lambda c: "n{}c{}-{}x{}-k{}s{}".format(*c))
@pytest.mark.parametrize("layout", ["nchw", "cnhw"])
@pytest.mark.parametrize("ties", [False, True])
def test_maxpool_matches_reference(case, dtype, layout, ties):
    n, c, h, w, k, s = case
    rng = np.random.default_rng(2)
    x = rng.standard_normal((n, c, h, w))
    if ties:  # few distinct values: many windows tie, and the first maximum must win
        x = np.round(x)
    x = x.astype(dtype)
    if layout == "cnhw":
        x = channel_major(x)
    x_before = x.copy()
    out, cache = maxpool2d_forward_fast(x, k, s)
    out_ref, cache_ref = maxpool2d_forward(x, k, s)
    close(out, out_ref, dtype)
    dout = rng.standard_normal(out.shape).astype(dtype)
    close(maxpool2d_backward_fast(dout, cache), maxpool2d_backward(dout, cache_ref), dtype)
    np.testing.assert_array_equal(x, x_before)


@pytest.mark.parametrize("h, w, s", [(55, 55, 2), (27, 60, 2), (30, 52, 1), (20, 80, 3)])
def test_maxpool_rows_picks_the_same_winners_as_the_window_loop(h, w, s):
    # the row kernel must repeat the window loop's comparisons exactly: first maximum on ties,
    # a NaN never wins unless it is a window's first element (then it stays), -inf like any
    from alexnet_np.fast import maxpool2d as fmp

    rng = np.random.default_rng(4)
    x = np.round(rng.standard_normal((6, h, w)) * 2).astype(np.float32)  # many ties
    x[1, ::3, ::2] = np.nan
    x[2, ::s, ::s] = np.nan  # every window's first element
    x[3, :, 1::2] = np.nan
    x[4, ::4, ::3] = -np.inf
    oh, ow = (h - 3) // s + 1, (w - 3) // s + 1
    assert ow >= fmp.ROWS_MIN_WIDTH
    out = [np.empty((6, oh, ow), np.float32) for _ in range(2)]
    arg = [np.empty((6, oh, ow), np.uint8) for _ in range(2)]
    fmp.maxpool_forward_kernel(out[0], arg[0], x, 0, 6, 3, s)
    fmp.maxpool3_forward_rows(out[1], arg[1], x, 0, 6, s)
    np.testing.assert_array_equal(out[1], out[0])  # NaN where NaN
    np.testing.assert_array_equal(arg[1], arg[0])
    assert np.isnan(out[0][2]).all() and (arg[0][2] == 0).all()


def test_fast_layers_are_reference_layers():
    fast = FastConv2d(4, 6, 3, padding=1, groups=2)
    fast.needs_input_grad = False
    assert isinstance(fast, Conv2d)
    assert isinstance(FastLocalResponseNorm(), LocalResponseNorm)
    assert isinstance(FastMaxPool2d(3, 2), MaxPool2d)
    x = np.random.default_rng(3).standard_normal((2, 4, 5, 5)).astype(np.float32)
    out = fast.forward(x)
    assert out.dtype == np.float32 and out.shape == (2, 6, 5, 5)
    assert fast.backward(np.ones_like(out)) is None
    assert set(fast.grads) == set(fast.params)


def conv_run(x, W, b, dout, s, p, g):
    out, cache = conv2d_forward_fast(x, W, b, s, p, g)
    return (out, *conv2d_backward_fast(dout, cache))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_conv2d_chunks_jobs_and_threads_give_the_same_numbers(dtype, monkeypatch):
    """Ten images: eight jobs of one or two images; with tiny chunks, a job builds cols one
    image at a time and adds up its part of dW over chunks. Against the reference, and the
    same bits on one worker, on two, and when BLAS's threads cannot be set (serial jobs)."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((10, 4, 9, 7)).astype(dtype)
    W = rng.standard_normal((6, 2, 3, 3)).astype(dtype)
    b = rng.standard_normal(6).astype(dtype)
    dout = channel_major(rng.standard_normal((10, 6, 9, 7)).astype(dtype))
    ref = conv2d_forward(x, W, b, 1, 1, 2)
    expected = (ref[0], *conv2d_backward(dout, ref[1]))
    monkeypatch.setattr(fast_conv2d, "CHUNK_BYTES", 1)
    monkeypatch.setattr(winograd, "TILE_BYTES", 1)  # the forward pass (3x3): by Winograd
    two = conv_run(x, W, b, dout, 1, 1, 2)
    for got, want in zip(two, expected, strict=True):
        close(got, want, dtype)
    real_workers = threads.workers
    monkeypatch.setattr(threads, "workers", lambda: 1)
    one = conv_run(x, W, b, dout, 1, 1, 2)
    monkeypatch.setattr(threads, "workers", real_workers)
    monkeypatch.setitem(threads._state, "blas", None)  # as if BLAS offered no thread control
    assert threads.workers() == 1
    serial = conv_run(x, W, b, dout, 1, 1, 2)
    for a, c, d in zip(two, one, serial, strict=True):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(a, d)


def test_split_covers_every_index_once():
    for n, parts in [(0, 8), (1, 8), (7, 8), (32, 8), (100, 3)]:
        ranges = threads.split(n, parts)
        assert len(ranges) == min(n, parts)
        assert [i for a, z in ranges for i in range(a, z)] == list(range(n))


def test_chunked_is_the_fewest_equal_ranges():
    assert threads.chunked(0, 8, 7) == [(0, 4), (4, 8)]  # not 7 + 1
    assert threads.chunked(5, 5, 3) == []
    for lo, hi, most in [(0, 1, 1), (3, 8, 2), (0, 32, 7), (8, 16, 100), (0, 13, 13)]:
        ranges = threads.chunked(lo, hi, most)
        assert [i for a, z in ranges for i in range(a, z)] == list(range(lo, hi))
        sizes = [z - a for a, z in ranges]
        assert max(sizes) <= most and max(sizes) - min(sizes) <= 1
        assert len(ranges) == -(-(hi - lo) // most)  # no more chunks than needed


def test_blas_threads_are_set_back_after_the_jobs():
    if threads.blas_threads() is None:
        pytest.skip("NumPy's BLAS offers no thread control here")
    get, _ = threads.blas_threads()
    before = get()
    seen = threads.run_jobs(lambda job: get(), [(0, 1), (1, 2)])
    if threads.workers() > 1:
        assert seen == [1, 1]  # one BLAS thread per worker while the jobs run
    assert get() == before


def test_fast_layer_errors_like_reference():
    with pytest.raises(ValueError, match="Conv2d"):
        FastConv2d(3, 4, 3).forward(np.zeros((1, 2, 5, 5), np.float32))
    with pytest.raises(ValueError, match="MaxPool2d"):
        FastMaxPool2d(3, 2).forward(np.zeros((1, 2, 2, 2), np.float32))
    with pytest.raises(ValueError, match="LocalResponseNorm"):
        FastLocalResponseNorm().forward(np.zeros((2, 3), np.float32))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_linear_matches_reference_and_reuses_grad_array(dtype):
    from alexnet_np.fast import FastLinear
    from alexnet_np.layers import Linear

    rng = np.random.default_rng(4)
    ref = Linear(7, 5, rng=rng, dtype=dtype)
    ref.params["b"][...] = rng.standard_normal(5)
    fast = FastLinear(7, 5, dtype=dtype)
    for k, v in ref.params.items():
        fast.params[k][...] = v
    x = rng.standard_normal((3, 7)).astype(dtype)
    out_ref = ref.forward(x)
    out = fast.forward(x)
    close(out, out_ref, dtype)
    assert out.flags.c_contiguous
    dout = rng.standard_normal((3, 5)).astype(dtype)
    dx_ref = ref.backward(dout)
    g_ref = {k: v.copy() for k, v in ref.grads.items()}
    dx = fast.backward(dout)
    close(dx, dx_ref, dtype)
    held = fast.grads["W"]
    for k in g_ref:
        close(fast.grads[k], g_ref[k], dtype)
    fast.backward(2 * dout)
    assert fast.grads["W"] is held  # written in place, not reallocated
    close(held, 2 * g_ref["W"], dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("layout", ["nchw", "cnhw", "slice"])
@pytest.mark.filterwarnings("ignore:invalid value")  # inf * 0 in the reference, on purpose
def test_relu_matches_reference_bit_for_bit(dtype, layout, monkeypatch):
    """The jobs path (forced on small arrays) gives the reference's very bits, also for
    NaN, inf and -0; out and dx keep the input's memory order; a non-contiguous input (a
    slice) goes through the reference statements."""
    from alexnet_np.fast import FastReLU, relu_backward_fast, relu_forward_fast
    from alexnet_np.fast import relu as fast_relu
    from alexnet_np.layers import ReLU, relu_backward, relu_forward

    monkeypatch.setattr(fast_relu, "PARALLEL_SIZE", 1)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 4, 5, 6)).astype(dtype)
    x.flat[:6] = [np.nan, np.inf, -np.inf, -0.0, 0.0, 1e-300]
    dout = rng.standard_normal(x.shape).astype(dtype)
    dout.flat[6:9] = [np.nan, np.inf, -np.inf]
    if layout == "cnhw":
        x, dout = channel_major(x), channel_major(dout)
    if layout == "slice":
        x, dout = x[:, :, 1:], dout[:, :, 1:]
    x_before = x.copy()
    out, cache = relu_forward_fast(x)
    out_ref, cache_ref = relu_forward(x)
    assert out.dtype == dtype and out.strides == np.empty_like(x).strides
    np.testing.assert_array_equal(out.view(f"u{x.itemsize}"), out_ref.view(f"u{x.itemsize}"))
    dx = relu_backward_fast(dout, cache)
    dx_ref = relu_backward(dout, cache_ref)
    assert dx.dtype == dtype
    np.testing.assert_array_equal(dx.view(f"u{x.itemsize}"), dx_ref.view(f"u{x.itemsize}"))
    if layout != "slice":
        assert order_of(out) == order_of(dx) == layout
    # dout in the other memory order than the output: the reference's statement
    other = np.ascontiguousarray(dout) if layout == "cnhw" else channel_major(dout)
    np.testing.assert_array_equal(relu_backward_fast(other, cache), dx_ref)
    np.testing.assert_array_equal(x, x_before)
    assert isinstance(FastReLU(), ReLU)


def test_relu_memory_view_is_a_view_in_memory_order():
    from alexnet_np.fast.relu import memory_view

    a = channel_major(np.arange(24.0).reshape(2, 3, 2, 2))
    flat = memory_view(a)
    assert np.shares_memory(flat, a) and flat.shape == (24,)
    np.testing.assert_array_equal(flat, a.transpose(1, 0, 2, 3).reshape(-1))
    assert np.shares_memory(memory_view(a[:, 1:]), a)  # channels are outermost in CNHW
    assert memory_view(a[..., 1:]) is None
