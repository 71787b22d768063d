"""Local response normalization across channels on the GPU, the paper's formula (sec. 3.3).

With ``den[i] = k + alpha * sum_{j in W(i)} a[j]^2``, W(i) = [i - size//2, i + (size-1)//2]
clipped to the channels (alpha NOT divided by size; see ``layers/lrn.py``)::

    forward   b[i]  = a[i] * den[i]^-beta
    backward  da[m] = dout[m] den[m]^-beta - 2 alpha beta a[m] sum_{i : m in W(i)} t[i],
              t[i]  = dout[i] b[i] / den[i]

Both kernels: one thread per element (n, c, y, x), grid-stride; each loops over its at most
``size`` neighbouring channels at the same pixel. The forward keeps ``den`` for the backward.
The backward recomputes t[i] of the neighbours on the fly (three loads each) instead of
storing a t array: one kernel, no extra buffer.
"""

import math

import numpy as np
from numba import cuda, float32

from ..layers.lrn import lrn_backward as np_bwd
from ..layers.lrn import lrn_forward as np_fwd
from .common import empty, grid_1d, max_rel_err, report, simulator, time_call, to_device


@cuda.jit
def lrn_fwd_kernel(out, den, x, size, alpha, beta, k):
    """Thread per element: den = k + alpha * window sum of squares; out = x den^-beta."""
    n, c, h, w = x.shape
    before = size // 2
    after = (size - 1) // 2
    for idx in range(cuda.grid(1), n * c * h * w, cuda.gridsize(1)):
        xx = idx % w
        y = (idx // w) % h
        ch = (idx // (w * h)) % c
        i_n = idx // (w * h * c)
        s = float32(0.0)
        for j in range(max(0, ch - before), min(c - 1, ch + after) + 1):
            a = x[i_n, j, y, xx]
            s += a * a
        d = k + alpha * s
        den[i_n, ch, y, xx] = d
        out[i_n, ch, y, xx] = x[i_n, ch, y, xx] * math.pow(d, -beta)


@cuda.jit
def lrn_bwd_kernel(dx, dout, x, out, den, size, alpha, beta):
    """Thread per element m: dout[m] den[m]^-beta - 2 alpha beta a[m] sum of t over the
    mirrored window [m - (size-1)//2, m + size//2]."""
    n, c, h, w = x.shape
    before = size // 2
    after = (size - 1) // 2
    for idx in range(cuda.grid(1), n * c * h * w, cuda.gridsize(1)):
        xx = idx % w
        y = (idx // w) % h
        ch = (idx // (w * h)) % c
        i_n = idx // (w * h * c)
        s = float32(0.0)
        for i in range(max(0, ch - after), min(c - 1, ch + before) + 1):
            s += dout[i_n, i, y, xx] * out[i_n, i, y, xx] / den[i_n, i, y, xx]
        dx[i_n, ch, y, xx] = (dout[i_n, ch, y, xx] * math.pow(den[i_n, ch, y, xx], -beta)
                              - float32(2.0) * alpha * beta * x[i_n, ch, y, xx] * s)


def lrn_forward(out, den, x, size=5, alpha=1e-4, beta=0.75, k=2.0):
    lrn_fwd_kernel[grid_1d(x.size)](out, den, x, size, float32(alpha), float32(beta),
                                    float32(k))
    return out


def lrn_backward(dx, dout, x, out, den, size=5, alpha=1e-4, beta=0.75):
    lrn_bwd_kernel[grid_1d(x.size)](dx, dout, x, out, den, size, float32(alpha), float32(beta))
    return dx


def _main():
    rng = np.random.default_rng(0)
    shape, repeat = ((2, 7, 3, 5), 1) if simulator() else ((128, 96, 55, 55), 20)
    x = (rng.standard_normal(shape) * 10).astype(np.float32)
    out_ref, cache = np_fwd(x, 5, 1e-4, 0.75, 2.0)
    dout = rng.standard_normal(shape).astype(np.float32)
    dx_ref = np_bwd(dout, cache)
    d_x, d_dout = to_device(x), to_device(dout)
    d_out, d_den, d_dx = empty(shape), empty(shape), empty(shape)
    fwd = lambda: lrn_forward(d_out, d_den, d_x)  # noqa: E731
    bwd = lambda: lrn_backward(d_dx, d_dout, d_x, d_out, d_den)  # noqa: E731
    fwd()
    bwd()
    report("lrn forward", max_rel_err(d_out.copy_to_host(), out_ref), 1e-5,
           time_call(fwd, repeat=repeat))
    report("lrn backward", max_rel_err(d_dx.copy_to_host(), dx_ref), 1e-5,
           time_call(bwd, repeat=repeat))


if __name__ == "__main__":
    _main()
