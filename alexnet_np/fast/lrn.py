"""Fast local response normalization: the reference ``layers/lrn.py`` as one Numba pass.

Same math as the reference (its docstring derives the backward pass)::

    den[i] = k + alpha * sum_{j in W(i)} a[j]^2           b[i] = a[i] * den[i]^-beta
    da[m]  = dout[m] * den[m]^-beta - 2 alpha beta a[m] * sum_{i : m in W(i)} t[i],
             t[i] = dout[i] * b[i] / den[i]

What makes it fast:

1. A running sum over channels: moving from channel i to i+1 adds one square and subtracts one,
   two operations per element whatever the window size, instead of the reference's ``size``
   shifted slice-adds with a padded copy and a temporary per step.
2. ``den^-0.75 = 1 / (sqrt(den) * sqrt(sqrt(den)))``: two square roots (fast, vectorised
   instructions) instead of a float32 ``**`` with a fractional exponent (a call to ``pow`` per
   element). Other betas use ``**``.
3. One pass over memory for each of forward and backward, parallel over blocks of positions;
   the inner loops run over contiguous positions of one channel, so they vectorise. Works on
   NCHW and on CNHW memory alike (``layout.channels_view``) and keeps the order it is given.

The running sum adds and subtracts in the array's dtype, so float32 sums differ from the
reference's by rounding (relative 1e-6 of the window sums, which alpha = 1e-4 shrinks further).
"""

import math

import numpy as np
from numba import njit, prange

from ..layers.base import check_nchw
from ..layers.lrn import LocalResponseNorm
from .layout import channels_view, empty, in_order, order_of

BLOCK = 512  # positions per parallel task: the running sum of a block stays in L1


@njit(parallel=True, cache=True)
def lrn_forward_kernel(out, den, x, size, alpha, beta, k):
    """out, den, x: (B, C, P). Writes den and out = x * den^-beta for every channel."""
    nb, c, p = x.shape
    before, after = size // 2, (size - 1) // 2
    n_blocks = (p + BLOCK - 1) // BLOCK
    for task in prange(nb * n_blocks):
        b = task // n_blocks
        p0 = (task % n_blocks) * BLOCK
        p1 = min(p, p0 + BLOCK)
        s = np.zeros(p1 - p0, dtype=x.dtype)  # sum of squares over the window of channel i
        for j in range(min(after, c - 1) + 1):  # window of channel 0: [0, after]
            for q in range(p0, p1):
                s[q - p0] += x[b, j, q] * x[b, j, q]
        for i in range(c):
            if beta == 0.75:  # the paper's beta: branch outside the loop, so it vectorises
                for q in range(p0, p1):
                    d = k + alpha * s[q - p0]
                    den[b, i, q] = d
                    r = math.sqrt(d)
                    out[b, i, q] = x[b, i, q] / (r * math.sqrt(r))
            else:
                for q in range(p0, p1):
                    d = k + alpha * s[q - p0]
                    den[b, i, q] = d
                    out[b, i, q] = x[b, i, q] * d ** -beta
            add, rem = i + 1 + after, i - before  # slide the window to channel i + 1
            if add < c:
                for q in range(p0, p1):
                    s[q - p0] += x[b, add, q] * x[b, add, q]
            if rem >= 0:
                for q in range(p0, p1):
                    s[q - p0] -= x[b, rem, q] * x[b, rem, q]


@njit(parallel=True, cache=True)
def lrn_backward_kernel(dx, dout, x, out, den, size, beta, two_ab):
    """All (B, C, P). dx = dout * den^-beta - 2 alpha beta x * (mirrored window sum of t)."""
    nb, c, p = x.shape
    before, after = size // 2, (size - 1) // 2
    n_blocks = (p + BLOCK - 1) // BLOCK
    for task in prange(nb * n_blocks):
        b = task // n_blocks
        p0 = (task % n_blocks) * BLOCK
        p1 = min(p, p0 + BLOCK)
        s = np.zeros(p1 - p0, dtype=x.dtype)  # sum of t over the mirrored window of m
        for j in range(min(before, c - 1) + 1):  # mirrored window of channel 0: [0, before]
            for q in range(p0, p1):
                s[q - p0] += dout[b, j, q] * out[b, j, q] / den[b, j, q]
        for m in range(c):
            if beta == 0.75:  # as in the forward kernel: no branch inside the inner loop
                for q in range(p0, p1):
                    r = math.sqrt(den[b, m, q])
                    dx[b, m, q] = (dout[b, m, q] / (r * math.sqrt(r))
                                   - two_ab * x[b, m, q] * s[q - p0])
            else:
                for q in range(p0, p1):
                    dx[b, m, q] = (dout[b, m, q] * den[b, m, q] ** -beta
                                   - two_ab * x[b, m, q] * s[q - p0])
            add, rem = m + 1 + before, m - after
            if add < c:
                for q in range(p0, p1):
                    s[q - p0] += dout[b, add, q] * out[b, add, q] / den[b, add, q]
            if rem >= 0:
                for q in range(p0, p1):
                    s[q - p0] -= dout[b, rem, q] * out[b, rem, q] / den[b, rem, q]


def lrn_forward_fast(x, size=5, alpha=1e-4, beta=0.75, k=2.0):
    """Same as :func:`alexnet_np.layers.lrn.lrn_forward`; keeps x's memory order (NCHW or
    CNHW; any other strides are copied to NCHW first). Returns ``(out, cache)``."""
    check_nchw("LocalResponseNorm", x)
    order = order_of(x) or "nchw"
    x = in_order(x, order)
    out, den = empty(x.shape, x.dtype, order), empty(x.shape, x.dtype, order)
    t = x.dtype.type
    lrn_forward_kernel(channels_view(out), channels_view(den), channels_view(x), size,
                       t(alpha), t(beta), t(k))
    return out, (x, out, den, size, alpha, beta, order)


def lrn_backward_fast(dout, cache):
    """Same as :func:`alexnet_np.layers.lrn.lrn_backward`; dx has the input's memory order."""
    x, out, den, size, alpha, beta, order = cache
    dout = in_order(dout, order)
    dx = empty(x.shape, x.dtype, order)
    t = x.dtype.type
    lrn_backward_kernel(channels_view(dx), channels_view(dout), channels_view(x),
                        channels_view(out), channels_view(den), size, t(beta),
                        t(2 * alpha * beta))
    return dx


class FastLocalResponseNorm(LocalResponseNorm):
    """:class:`~alexnet_np.layers.LocalResponseNorm` computed by :func:`lrn_forward_fast`."""

    def forward(self, x):
        out, self.cache = lrn_forward_fast(x, self.size, self.alpha, self.beta, self.k)
        return out

    def backward(self, dout):
        return lrn_backward_fast(dout, self.cache)
