"""Max-pooling, overlapping as in the paper (sec. 3.4: window z = 3, stride s = 2).

Forward::

    out[n, c, i, j] = max_{u < KH, v < KW} x[n, c, i*s + u, j*s + v]

Output size ``OH = (H - KH) // s + 1`` (the floor rule; AlexNet: 55 -> 27, 27 -> 13, 13 -> 6).

Backward: the max is linear in its winning input, so each output sends its gradient to the
position of its maximum (the first one in row-major window order on ties, like PyTorch)::

    dx[n, c, y, x] = sum over windows (i, j) whose argmax is (y, x) of dout[n, c, i, j]

With s < KH the windows overlap: one input can win several windows and must receive the SUM of
their gradients. Assigning instead of accumulating is the classic bug; it is right where windows
do not overlap and wrong where they do.

Shapes: x (N, C, H, W) -> out (N, C, OH, OW).
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .base import Layer, check_nchw
from .im2col import conv_output_size


def _check_pool(x, kernel_size, stride):
    check_nchw("MaxPool2d", x)
    if kernel_size > x.shape[2] or kernel_size > x.shape[3]:
        raise ValueError(
            f"MaxPool2d: window {kernel_size}x{kernel_size} is larger than the input "
            f"(shape {x.shape}); use a larger input or a smaller window"
        )


def maxpool2d_forward(x, kernel_size=3, stride=2):
    """Max over every ``kernel_size`` window at ``stride``. Returns ``(out, cache)``.

    The cache holds the argmax of each window as a flat index ``u * KW + v`` into the window.
    """
    _check_pool(x, kernel_size, stride)
    n, c, h, w = x.shape
    kh = kw = kernel_size
    oh, ow = conv_output_size(h, kh, stride, 0), conv_output_size(w, kw, stride, 0)
    windows = sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]
    windows = windows.reshape(n, c, oh, ow, kh * kw)  # (N, C, OH, OW, KH*KW), a copy
    arg = windows.argmax(axis=-1)  # first maximum on ties
    out = np.take_along_axis(windows, arg[..., None], axis=-1)[..., 0]  # (N, C, OH, OW)
    return out, (x.shape, arg, kernel_size, stride)


def maxpool2d_backward(dout, cache):
    """Route each output's gradient to its window's argmax, accumulating over overlaps.

    One strided slice-add per window offset (KH*KW of them, 9 for AlexNet), never a loop over
    pixels: for offset (u, v), the windows whose argmax is (u, v) add their dout at
    ``dx[:, :, u::s, v::s]``. Because every offset adds, overlapping windows accumulate.
    """
    x_shape, arg, kernel_size, stride = cache
    n, c, oh, ow = dout.shape
    dx = np.zeros(x_shape, dtype=dout.dtype)
    for u in range(kernel_size):
        for v in range(kernel_size):
            won = arg == u * kernel_size + v  # (N, C, OH, OW)
            rows = slice(u, u + stride * (oh - 1) + 1, stride)
            cols = slice(v, v + stride * (ow - 1) + 1, stride)
            dx[:, :, rows, cols] += dout * won
    return dx


def maxpool2d_forward_naive(x, kernel_size=3, stride=2):
    """The oracle: a Python loop over every output element. Returns ``(out, cache)``."""
    _check_pool(x, kernel_size, stride)
    n, c, h, w = x.shape
    oh, ow = conv_output_size(h, kernel_size, stride, 0), conv_output_size(w, kernel_size,
                                                                          stride, 0)
    out = np.empty((n, c, oh, ow), dtype=x.dtype)
    for i in range(oh):
        for j in range(ow):
            window = x[:, :, i * stride:i * stride + kernel_size,
                       j * stride:j * stride + kernel_size]
            out[:, :, i, j] = window.max(axis=(2, 3))
    return out, (x, kernel_size, stride)


def maxpool2d_backward_naive(dout, cache):
    """The oracle backward: for every output, add its gradient at its first maximum."""
    x, kernel_size, stride = cache
    n, c, oh, ow = dout.shape
    dx = np.zeros_like(x)
    for i_n in range(n):
        for i_c in range(c):
            for i in range(oh):
                for j in range(ow):
                    window = x[i_n, i_c, i * stride:i * stride + kernel_size,
                               j * stride:j * stride + kernel_size]
                    u, v = np.unravel_index(np.argmax(window), window.shape)
                    dx[i_n, i_c, i * stride + u, j * stride + v] += dout[i_n, i_c, i, j]
    return dx


class MaxPool2d(Layer):
    """``MaxPool2d(kernel_size, stride=None)``; stride defaults to kernel_size (PyTorch)."""

    def __init__(self, kernel_size, stride=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride

    def forward(self, x):
        out, self.cache = maxpool2d_forward(x, self.kernel_size, self.stride)
        return out

    def backward(self, dout):
        return maxpool2d_backward(dout, self.cache)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}"
