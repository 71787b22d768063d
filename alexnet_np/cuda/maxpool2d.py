"""Overlapping max-pooling on the GPU (paper sec. 3.4: window z = 3, stride s = 2).

Forward, thread per output element (grid-stride)::

    out[n, c, i, j] = max_{u, v < K} x[n, c, i s + u, j s + v]
    arg[n, c, i, j] = (i s + u*) W + (j s + v*)     the flat (y, x) index of the winner,
                                                    the FIRST maximum in row-major order
                                                    (as NumPy's argmax and PyTorch)

Backward GATHERS, one thread per input element x[n, c, y, x]: it visits the (at most
ceil(K/s)^2, 4 for AlexNet) windows that contain (y, x) and adds dout of every window whose
recorded winner is (y, x)::

    dx[n, c, y, x] = sum_{(i, j) : arg[n, c, i, j] = y W + x} dout[n, c, i, j]

Why gather and not scatter with atomics: with overlapping windows (s < K) one input can win
several windows, so a scatter ("each output adds its dout at its argmax") needs
``cuda.atomic.add``, whose float additions happen in a run-dependent order (results differ in
the last bits between runs) and which needs dx zeroed first. The gather writes every dx element
exactly once, in a fixed order: deterministic, no memset, no atomics, and poison-safe.
"""

import numpy as np
from numba import cuda, float32

from ..layers.maxpool2d import maxpool2d_backward as np_bwd
from ..layers.maxpool2d import maxpool2d_forward as np_fwd
from .common import empty, grid_1d, max_rel_err, report, simulator, time_call, to_device


@cuda.jit
def maxpool_fwd_kernel(out, arg, x, k, stride):
    """Thread per out[n, c, i, j]: the window maximum and its flat input position."""
    n, c, oh, ow = out.shape
    w = x.shape[3]
    for idx in range(cuda.grid(1), n * c * oh * ow, cuda.gridsize(1)):
        j = idx % ow
        i = (idx // ow) % oh
        ch = (idx // (ow * oh)) % c
        i_n = idx // (ow * oh * c)
        y0 = i * stride
        x0 = j * stride
        best = x[i_n, ch, y0, x0]
        best_pos = y0 * w + x0
        for u in range(k):
            for v in range(k):
                val = x[i_n, ch, y0 + u, x0 + v]
                if val > best:  # strict: the first maximum wins ties
                    best = val
                    best_pos = (y0 + u) * w + x0 + v
        out[i_n, ch, i, j] = best
        arg[i_n, ch, i, j] = best_pos


@cuda.jit
def maxpool_bwd_kernel(dx, dout, arg, k, stride):
    """Thread per dx[n, c, y, x]: gather dout from the windows that chose (y, x)."""
    n, c, h, w = dx.shape
    oh, ow = dout.shape[2], dout.shape[3]
    for idx in range(cuda.grid(1), n * c * h * w, cuda.gridsize(1)):
        xx = idx % w
        y = (idx // w) % h
        ch = (idx // (w * h)) % c
        i_n = idx // (w * h * c)
        # windows i with i s <= y < i s + k, i.e. ceil((y - k + 1) / s) <= i <= y // s
        i_lo = max(0, (y - k + stride) // stride)
        i_hi = min(oh - 1, y // stride)
        j_lo = max(0, (xx - k + stride) // stride)
        j_hi = min(ow - 1, xx // stride)
        me = y * w + xx
        acc = float32(0.0)
        for i in range(i_lo, i_hi + 1):
            for j in range(j_lo, j_hi + 1):
                if arg[i_n, ch, i, j] == me:
                    acc += dout[i_n, ch, i, j]
        dx[i_n, ch, y, xx] = acc


def pool_out_size(size, k, stride):
    return (size - k) // stride + 1


def maxpool2d_forward(out, arg, x, k, stride):
    """``out``, ``arg`` (int32) of shape (N, C, OH, OW) from ``x`` (N, C, H, W)."""
    maxpool_fwd_kernel[grid_1d(out.size)](out, arg, x, k, stride)
    return out, arg


def maxpool2d_backward(dx, dout, arg, k, stride):
    """``dx`` (N, C, H, W) from ``dout`` and the forward's ``arg``."""
    maxpool_bwd_kernel[grid_1d(dx.size)](dx, dout, arg, k, stride)
    return dx


def empty_arg(shape):
    return empty(shape, dtype=np.int32)


def _main():
    rng = np.random.default_rng(0)
    shape, repeat = ((2, 3, 9, 11), 1) if simulator() else ((128, 96, 55, 55), 20)
    k, s = 3, 2
    x = rng.standard_normal(shape).astype(np.float32)
    out_ref, cache = np_fwd(x, k, s)
    dout = rng.standard_normal(out_ref.shape).astype(np.float32)
    dx_ref = np_bwd(dout, cache)
    d_x, d_dout = to_device(x), to_device(dout)
    d_out, d_arg, d_dx = empty(out_ref.shape), empty_arg(out_ref.shape), empty(shape)
    fwd = lambda: maxpool2d_forward(d_out, d_arg, d_x, k, s)  # noqa: E731
    bwd = lambda: maxpool2d_backward(d_dx, d_dout, d_arg, k, s)  # noqa: E731
    fwd()
    bwd()
    report("maxpool2d forward", max_rel_err(d_out.copy_to_host(), out_ref), 1e-6,
           time_call(fwd, repeat=repeat))
    report("maxpool2d backward (gather)", max_rel_err(d_dx.copy_to_host(), dx_ref), 1e-5,
           time_call(bwd, repeat=repeat))


if __name__ == "__main__":
    _main()
