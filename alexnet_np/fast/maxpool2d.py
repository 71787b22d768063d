"""Fast overlapping max-pooling: the reference ``layers/maxpool2d.py`` as Numba loops.

Same math and the same tie rule as the reference (the first maximum in row-major window order
wins; see its docstring). What makes it fast:

1. Forward reads each window in place: no (N, C, OH, OW, KH*KW) copy of the windows, and the
   winning offset ``u * KW + v`` is kept as one byte per output (the reference keeps an int64).
2. Backward scatters each output's gradient to its winner within one (H, W) plane per thread:
   overlapping windows accumulate (``+=``) without ``np.add.at`` and without races, in one pass
   instead of the reference's KH*KW masked slice-adds over the whole batch.
3. Parallel over planes (jobs on the workers of ``threads.py``); works on NCHW and CNHW memory
   alike (``layout.planes``) and keeps the order it is given, so the gradient has the memory
   order of the activation it belongs to.
"""

import numpy as np
from numba import njit

from ..layers.im2col import conv_output_size
from ..layers.maxpool2d import MaxPool2d, _check_pool
from .layout import empty, in_order, order_of, planes
from .threads import run_jobs, split


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
def maxpool_backward_kernel(dx, dout, arg, b0, b1, k, stride):
    """dx (B, H, W), written; dout, arg (B, OH, OW). ``dx[winner] += dout`` per window.
    Planes b0 <= b < b1."""
    _, oh, ow = dout.shape
    for b in range(b0, b1):
        dx[b] = 0
        for i in range(oh):
            for j in range(ow):
                a = arg[b, i, j]
                dx[b, i * stride + a // k, j * stride + a % k] += dout[b, i, j]


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
