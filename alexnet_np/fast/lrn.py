"""Fast local response normalization: the reference ``layers/lrn.py`` as one Numba pass.

Same math as the reference (its docstring derives the backward pass)::

    den[i] = k + alpha * sum_{j in W(i)} a[j]^2           b[i] = a[i] * den[i]^-beta
    da[m]  = dout[m] * den[m]^-beta - 2 alpha beta a[m] * sum_{i : m in W(i)} t[i],
             t[i] = dout[i] * a[i] * den[i]^(-beta-1)

What makes it fast:

1. A running sum over channels: moving from channel i to i+1 adds one square and subtracts one,
   two operations per element whatever the window size, instead of the reference's ``size``
   shifted slice-adds with a padded copy and a temporary per step.
2. ``den^-0.75 = 1 / (sqrt(den) * sqrt(sqrt(den)))``: two square roots (fast, vectorised
   instructions) instead of a float32 ``**`` with a fractional exponent (a call to ``pow`` per
   element). Other betas use ``**``.
3. Nothing but the input is kept for the backward pass: the forward pass writes ``out`` alone,
   and the backward pass recomputes ``den`` (the same running sum, so the same numbers) for a
   block of positions at a time, in a buffer that stays in cache. That reads two arrays (x,
   dout) instead of four (x, dout, out, den), and saves two activations' worth of memory per
   LRN layer in training (~150 MB for the paper preset at batch 32).
4. The inner loops run over 1-D rows (one channel's block of positions) and the kernels are
   compiled with NumPy's error model (``error_model="numpy"``: a division by zero gives inf
   instead of raising, which den >= k > 0 rules out anyway). Numba's default Python error
   model checks every division for zero, and that check alone kept the loops from being
   vectorised: 31 -> 9 ms (forward) and 42 -> 18 ms (backward) for lrn1 at batch 32 on one
   core, measured on this project's 2-core machine.
5. Parallel over blocks of positions (jobs on the workers of ``threads.py``); the inner loops
   run over contiguous positions of one channel, so they vectorise. Works on NCHW and on CNHW
   memory alike (``layout.channels_view``) and keeps the order it is given.

The running sum adds and subtracts in the array's dtype, so float32 sums differ from the
reference's by rounding (relative 1e-6 of the window sums, which alpha = 1e-4 shrinks further).
"""

import math

import numpy as np
from numba import njit

from ..layers.base import check_nchw
from ..layers.lrn import LocalResponseNorm
from .layout import channels_view, empty, in_order, order_of
from .threads import run_jobs, split

BLOCK = 512  # positions per parallel task: the running sum of a block stays in L1


def n_tasks(x):
    """The tasks of an LRN kernel over x (B, C, P): one per block of BLOCK positions."""
    return x.shape[0] * ((x.shape[2] + BLOCK - 1) // BLOCK)


@njit(nogil=True, cache=True, error_model="numpy")
def lrn_forward_kernel(out, x, t0, t1, size, alpha, beta, k):
    """out, x: (B, C, P). out = x * den^-beta for every channel, for the blocks of positions
    t0 <= task < t1 (see :func:`n_tasks`). One pass: den is used as it is made."""
    nb, c, p = x.shape
    before, after = size // 2, (size - 1) // 2
    n_blocks = (p + BLOCK - 1) // BLOCK
    one = x.dtype.type(1)  # a float32 one for float32 arrays (a plain 1 would be float64)
    s = np.empty(BLOCK, dtype=x.dtype)  # sum of squares over the window of channel i
    for task in range(t0, t1):
        b = task // n_blocks
        p0 = (task % n_blocks) * BLOCK
        p1 = min(p, p0 + BLOCK)
        m = p1 - p0
        s[:] = 0
        for j in range(min(after, c - 1) + 1):  # window of channel 0: [0, after]
            xj = x[b, j, p0:p1]  # (m,) one channel's block: 1-D, so the loops vectorise
            for q in range(m):
                s[q] += xj[q] * xj[q]
        for i in range(c):
            xi, oi = x[b, i, p0:p1], out[b, i, p0:p1]  # (m,)
            if beta == 0.75:  # the paper's beta: branch outside the loop, so it vectorises
                for q in range(m):
                    r = math.sqrt(k + alpha * s[q])
                    oi[q] = xi[q] * (one / (r * math.sqrt(r)))
            else:
                for q in range(m):
                    oi[q] = xi[q] * (k + alpha * s[q]) ** -beta
            add, rem = i + 1 + after, i - before  # slide the window to channel i + 1
            if add < c:
                xa = x[b, add, p0:p1]
                for q in range(m):
                    s[q] += xa[q] * xa[q]
            if rem >= 0:
                xr = x[b, rem, p0:p1]
                for q in range(m):
                    s[q] -= xr[q] * xr[q]


@njit(nogil=True, cache=True, error_model="numpy")
def lrn_backward_kernel(dx, dout, x, t0, t1, size, alpha, beta, k, two_ab):
    """All (B, C, P). dx = dout * den^-beta - 2 alpha beta x * (mirrored window sum of t),
    with den recomputed from x block by block; ``two_ab = 2 alpha beta``. Blocks of positions
    t0 <= task < t1."""
    nb, c, p = x.shape
    before, after = size // 2, (size - 1) // 2
    n_blocks = (p + BLOCK - 1) // BLOCK
    one = x.dtype.type(1)
    scale = np.empty((c, BLOCK), dtype=x.dtype)  # den^-beta
    t = np.empty((c, BLOCK), dtype=x.dtype)  # dout * x * den^(-beta-1)
    s = np.empty(BLOCK, dtype=x.dtype)  # sum of squares over the window of channel i
    for task in range(t0, t1):
        b = task // n_blocks
        p0 = (task % n_blocks) * BLOCK
        p1 = min(p, p0 + BLOCK)
        m = p1 - p0
        s[:] = 0
        for j in range(min(after, c - 1) + 1):  # den, recomputed as in the forward pass
            xj = x[b, j, p0:p1]  # (m,)
            for q in range(m):
                s[q] += xj[q] * xj[q]
        for i in range(c):
            xi, di, si, ti = x[b, i, p0:p1], dout[b, i, p0:p1], scale[i], t[i]  # (m,) each
            if beta == 0.75:  # as in the forward kernel: no branch inside the inner loop
                for q in range(m):
                    inv = one / (k + alpha * s[q])  # 1 / d: the one division
                    r = math.sqrt(inv)
                    r = r * math.sqrt(r)  # d^-0.75
                    si[q] = r
                    ti[q] = di[q] * xi[q] * (r * inv)
            else:
                for q in range(m):
                    d = k + alpha * s[q]
                    r = d ** -beta
                    si[q] = r
                    ti[q] = di[q] * xi[q] * r / d
            add, rem = i + 1 + after, i - before
            if add < c:
                xa = x[b, add, p0:p1]
                for q in range(m):
                    s[q] += xa[q] * xa[q]
            if rem >= 0:
                xr = x[b, rem, p0:p1]
                for q in range(m):
                    s[q] -= xr[q] * xr[q]
        s[:] = 0  # now the sum of t over the mirrored window of m
        for j in range(min(before, c - 1) + 1):  # mirrored window of channel 0: [0, before]
            tj = t[j]
            for q in range(m):
                s[q] += tj[q]
        for i in range(c):
            xi, di, dxi, si = x[b, i, p0:p1], dout[b, i, p0:p1], dx[b, i, p0:p1], scale[i]
            for q in range(m):
                dxi[q] = di[q] * si[q] - two_ab * xi[q] * s[q]
            add, rem = i + 1 + before, i - after
            if add < c:
                ta = t[add]
                for q in range(m):
                    s[q] += ta[q]
            if rem >= 0:
                tr = t[rem]
                for q in range(m):
                    s[q] -= tr[q]


def lrn_forward_fast(x, size=5, alpha=1e-4, beta=0.75, k=2.0):
    """Same as :func:`alexnet_np.layers.lrn.lrn_forward`; keeps x's memory order (NCHW or
    CNHW; any other strides are copied to NCHW first). Returns ``(out, cache)``; the cache
    holds x and the settings only (the backward pass recomputes den)."""
    check_nchw("LocalResponseNorm", x)
    order = order_of(x) or "nchw"
    x = in_order(x, order)
    out = empty(x.shape, x.dtype, order)
    t = x.dtype.type
    out_v, x_v = channels_view(out), channels_view(x)
    run_jobs(lambda r: lrn_forward_kernel(out_v, x_v, r[0], r[1], size, t(alpha), t(beta),
                                          t(k)), split(n_tasks(x_v)))
    return out, (x, size, alpha, beta, k, order)


def lrn_backward_fast(dout, cache):
    """Same as :func:`alexnet_np.layers.lrn.lrn_backward`; dx has the input's memory order."""
    x, size, alpha, beta, k, order = cache
    dout = in_order(dout, order)
    dx = empty(x.shape, x.dtype, order)
    t = x.dtype.type
    dx_v, dout_v, x_v = channels_view(dx), channels_view(dout), channels_view(x)
    run_jobs(lambda r: lrn_backward_kernel(dx_v, dout_v, x_v, r[0], r[1], size, t(alpha),
                                           t(beta), t(k), t(2 * alpha * beta)),
             split(n_tasks(x_v)))
    return dx


class FastLocalResponseNorm(LocalResponseNorm):
    """:class:`~alexnet_np.layers.LocalResponseNorm` computed by :func:`lrn_forward_fast`."""

    def forward(self, x):
        out, self.cache = lrn_forward_fast(x, self.size, self.alpha, self.beta, self.k)
        return out

    def backward(self, dout):
        return lrn_backward_fast(dout, self.cache)
