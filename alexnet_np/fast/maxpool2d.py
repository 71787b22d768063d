"""Fast overlapping max-pooling: the reference ``layers/maxpool2d.py`` as Numba loops.

Same math and the same tie rule as the reference (the first maximum in row-major window order
wins; see its docstring). What makes it fast:

1. Forward reads each window in place: no (N, C, OH, OW, KH*KW) copy of the windows, and the
   winning offset ``u * KW + v`` is kept as one byte per output (the reference keeps an int64).
2. Backward scatters each output's gradient to its winner within one (H, W) plane per thread:
   overlapping windows accumulate (``+=``) without ``np.add.at`` and without races, in one pass
   instead of the reference's KH*KW masked slice-adds over the whole batch.
3. For 3x3 windows on wide planes (pool1 of the paper: 55 -> 27) the forward pass goes a row of
   outputs at a time (:func:`maxpool3_forward_rows`): the plane is split by column phase,
   as conv2d's im2col does, so that each window position is a contiguous row for the whole
   output row, and the comparisons become vectorised selects. Same comparisons, same order,
   same winners (ties and NaN included); paper pool1 at batch 32 on one core: 22 -> 12 ms.
   On narrow planes (pool2, 27 -> 13) the split costs more than it saves: there the
   per-window loop stays.
4. Parallel over planes (jobs on the workers of ``threads.py``); works on NCHW and CNHW memory
   alike (``layout.planes``) and keeps the order it is given, so the gradient has the memory
   order of the activation it belongs to.
"""

import numpy as np
from numba import njit

from ..layers.im2col import conv_output_size
from ..layers.maxpool2d import MaxPool2d, _check_pool
from .conv2d import split_phases
from .layout import empty, in_order, order_of, planes
from .threads import run_jobs, split

ROWS_MIN_WIDTH = 24  # 3x3 windows and outputs at least this wide: maxpool3_forward_rows


@njit(nogil=True, cache=True, error_model="numpy")
def maxpool_forward_kernel(out, arg, x, b0, b1, k, stride):
    """out, arg (B, OH, OW); x (B, H, W). ``arg`` = u*k + v of the first maximum. Planes
    b0 <= b < b1."""
    _, oh, ow = out.shape
    for b in range(b0, b1):
        for i in range(oh):
            for j in range(ow):
                y0, x0 = i * stride, j * stride
                best = x[b, y0, x0]
                best_at = 0
                for u in range(k):
                    for v in range(k):
                        val = x[b, y0 + u, x0 + v]
                        if val > best:  # strict: on ties the first maximum stays
                            best = val
                            best_at = u * k + v
                out[b, i, j] = best
                arg[b, i, j] = best_at


@njit(nogil=True, cache=True, error_model="numpy")
def take_larger3(best, at, a, b, c, code):
    """For each j, in this order: ``best[j], at[j] = a[j], code`` where ``a[j] > best[j]``,
    then the same with ``b[j], code + 1`` and ``c[j], code + 2`` (strict: on ties, and for a
    NaN candidate, the earlier winner stays, as in :func:`maxpool_forward_kernel`).
    Contiguous rows and selects instead of branches, so LLVM vectorises the loop."""
    code1, code2 = code + 1, code + 2
    for j in range(best.size):
        cur, won = best[j], at[j]
        v = a[j]
        w = v > cur
        cur = v if w else cur
        won = code if w else won
        v = b[j]
        w = v > cur
        cur = v if w else cur
        won = code1 if w else won
        v = c[j]
        w = v > cur
        cur = v if w else cur
        won = code2 if w else won
        best[j] = cur
        at[j] = won


@njit(nogil=True, cache=True, error_model="numpy")
def maxpool3_forward_rows(out, arg, x, b0, b1, stride):
    """:func:`maxpool_forward_kernel` for 3x3 windows, a row of outputs at a time.

    Each plane is first split by column phase, ``ph[r, y, q] = x[b, y, q*stride + r]``
    (entries past the right edge are never read), so that window column v of output column
    j, ``x[., j*stride + v]``, is ``ph[v % stride, ., j + v // stride]``: for a row of
    outputs, every window position is one contiguous row of ``ph``. The same comparisons in
    the same order as the per-window loop, so the same winners. out, arg (B, OH, OW);
    x (B, H, W); planes b0 <= b < b1."""
    _, oh, ow = out.shape
    h, w = x.shape[1], x.shape[2]
    ph = np.empty((stride, h, (w + stride - 1) // stride), dtype=x.dtype)
    best = np.empty(ow, dtype=x.dtype)
    at = np.empty(ow, dtype=np.int32)
    r1, q1, r2, q2 = 1 % stride, 1 // stride, 2 % stride, 2 // stride  # columns v = 1, 2
    for b in range(b0, b1):
        split_phases(ph, x[b], stride)
        for i in range(oh):
            y0 = i * stride
            best[:] = ph[0, y0, 0:ow]  # window position (0, 0) starts
            at[:] = 0
            for u in range(3):  # window row u: positions (u, 0), (u, 1), (u, 2)
                y = y0 + u  # ((0, 0) against itself never wins: not strictly larger)
                take_larger3(best, at, ph[0, y, 0:ow], ph[r1, y, q1:q1 + ow],
                             ph[r2, y, q2:q2 + ow], np.int32(3 * u))
            orow, arow = out[b, i], arg[b, i]
            for j in range(ow):
                orow[j] = best[j]
                arow[j] = np.uint8(at[j])


@njit(nogil=True, cache=True, error_model="numpy")
def maxpool_backward_kernel(dx, dout, arg, b0, b1, k, stride):
    """dx (B, H, W), written; dout, arg (B, OH, OW). ``dx[winner] += dout`` per window.
    Planes b0 <= b < b1."""
    _, oh, ow = dout.shape
    du = np.empty(k * k, dtype=np.int64)  # winner a = u*k + v -> (u, v), looked up: an integer
    dv = np.empty(k * k, dtype=np.int64)  # division by the run-time k per output cost ~40%
    for a in range(k * k):
        du[a], dv[a] = a // k, a % k
    for b in range(b0, b1):
        dx[b] = 0
        for i in range(oh):
            for j in range(ow):
                a = arg[b, i, j]
                dx[b, i * stride + du[a], j * stride + dv[a]] += dout[b, i, j]


def maxpool2d_forward_fast(x, kernel_size=3, stride=2):
    """Same as :func:`alexnet_np.layers.maxpool2d.maxpool2d_forward`; keeps x's memory order
    (NCHW or CNHW). Returns ``(out, cache)``."""
    _check_pool(x, kernel_size, stride)
    order = order_of(x) or "nchw"
    x = in_order(x, order)
    n, c, h, w = x.shape
    oh, ow = conv_output_size(h, kernel_size, stride, 0), conv_output_size(w, kernel_size,
                                                                          stride, 0)
    out = empty((n, c, oh, ow), x.dtype, order)
    arg_dtype = np.uint8 if kernel_size * kernel_size <= 256 else np.int32
    arg = empty((n, c, oh, ow), arg_dtype, order)
    out_p, arg_p, x_p = planes(out), planes(arg), planes(x)  # (N*C, ...) planes
    if kernel_size == 3 and ow >= ROWS_MIN_WIDTH:
        run_jobs(lambda r: maxpool3_forward_rows(out_p, arg_p, x_p, r[0], r[1], stride),
                 split(len(x_p)))
    else:
        run_jobs(lambda r: maxpool_forward_kernel(out_p, arg_p, x_p, r[0], r[1], kernel_size,
                                                  stride), split(len(x_p)))
    return out, (x.shape, x.dtype, arg, kernel_size, stride, order)


def maxpool2d_backward_fast(dout, cache):
    """Same as :func:`alexnet_np.layers.maxpool2d.maxpool2d_backward`; dx has the input's
    memory order."""
    x_shape, dtype, arg, kernel_size, stride, order = cache
    dout = in_order(dout, order)
    dx = empty(x_shape, dout.dtype, order)
    dx_p, dout_p, arg_p = planes(dx), planes(dout), planes(arg)  # (N*C, ...) planes
    run_jobs(lambda r: maxpool_backward_kernel(dx_p, dout_p, arg_p, r[0], r[1], kernel_size,
                                               stride), split(len(dx_p)))
    return dx


class FastMaxPool2d(MaxPool2d):
    """:class:`~alexnet_np.layers.MaxPool2d` computed by :func:`maxpool2d_forward_fast`."""

    def forward(self, x):
        out, self.cache = maxpool2d_forward_fast(x, self.kernel_size, self.stride)
        return out

    def backward(self, dout):
        return maxpool2d_backward_fast(dout, self.cache)
