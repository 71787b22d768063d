"""Fast ReLU: the reference ``layers/relu.py`` on the worker threads.

Same math as the reference::

    out = max(0, x)                 dx = dout * (out > 0)

The reference is one NumPy statement each way, already at the speed of memory for one core;
what it leaves on the table is the second core and, in the backward pass, the boolean mask
``out > 0`` it builds before multiplying (an extra array as large as the activation: 9 MB of
bools for relu1 at batch 32). Here both passes are one Numba loop over the activation's memory,
a range of elements per job on the workers of ``threads.py``. relu1 at batch 32 (37 MB), in
the bench on the project's two-core machine: backward 10.6-12.2 -> 5.8-6.3 ms; the forward
pass stays at the reference's 5-6 ms (memory-bound either way; docs/performance.md).

Both kernels loop over slices ``x[i0:i1]`` indexed from 0 rather than over ``range(i0, i1)``
of the whole arrays: written the second way, LLVM vectorised them poorly. relu1 at batch 32 on
two workers, the kernels alone (outputs allocated once): forward 4.4-5.0 -> 1.8-2.1 ms,
backward 5.1 -> 3.6-3.9 ms, the same bits (docs/performance.md, round 6; the SGD update had
the same trap). So the forward pass was not memory-bound, as the paragraph above assumed.

The activation is taken in whatever memory order it has (NCHW or the fast path's CNHW, see
``layout.py``); ``out`` and ``dx`` get the same order. Arrays that are not one contiguous block,
or whose ``dout`` has another order than the output, or that are small, go through the
reference statements.
"""

import numpy as np
from numba import njit

from ..layers.base import check_float
from ..layers.relu import ReLU, relu_backward, relu_forward
from .threads import run_jobs, split

PARALLEL_SIZE = 1 << 18  # smaller activations: the reference's NumPy statement


def memory_view(a):
    """``a``'s elements as a 1-D view in the order they lie in memory, or None when they are
    not one contiguous block (e.g. a slice)."""
    axes = np.argsort(a.strides, kind="stable")[::-1]  # largest stride first
    t = a.transpose(axes)
    if not t.flags.c_contiguous:
        return None
    return t.reshape(-1)


@njit(nogil=True, cache=True, error_model="numpy")
def relu_forward_kernel(out, x, i0, i1):
    """``out[i] = max(0, x[i])`` for i0 <= i < i1 (NaN stays NaN, like ``np.maximum``)."""
    zero = out.dtype.type(0)
    outs, xs = out[i0:i1], x[i0:i1]  # (i1 - i0,) views, indexed from 0: see the note above
    for i in range(outs.size):
        v = xs[i]
        outs[i] = zero if v <= 0 else v


@njit(nogil=True, cache=True, error_model="numpy")
def relu_backward_kernel(dx, dout, out, i0, i1):
    """``dx[i] = dout[i] * (out[i] > 0)`` for i0 <= i < i1: the reference's product, without
    its mask array (so inf * 0 is NaN here as there)."""
    zero, one = dx.dtype.type(0), dx.dtype.type(1)
    dxs, douts, outs = dx[i0:i1], dout[i0:i1], out[i0:i1]  # (i1 - i0,) views
    for i in range(dxs.size):
        dxs[i] = douts[i] * (one if outs[i] > 0 else zero)


def _jobs(size):
    return split(size, 8)


def relu_forward_fast(x):
    """Same as :func:`alexnet_np.layers.relu.relu_forward`. Returns ``(out, cache)``."""
    check_float("ReLU", x)
    x_flat = memory_view(x) if x.size >= PARALLEL_SIZE else None
    if x_flat is None:
        return relu_forward(x)
    out = np.empty_like(x)  # same memory order as x (order="K")
    out_flat = memory_view(out)
    run_jobs(lambda r: relu_forward_kernel(out_flat, x_flat, r[0], r[1]), _jobs(x.size))
    return out, out


def relu_backward_fast(dout, cache):
    """Same as :func:`alexnet_np.layers.relu.relu_backward`."""
    out = cache
    if (dout.shape != out.shape or dout.dtype != out.dtype or dout.strides != out.strides
            or out.size < PARALLEL_SIZE):
        return relu_backward(dout, cache)
    out_flat, dout_flat = memory_view(out), memory_view(dout)
    if out_flat is None or dout_flat is None:
        return relu_backward(dout, cache)
    dx = np.empty_like(out)
    dx_flat = memory_view(dx)
    run_jobs(lambda r: relu_backward_kernel(dx_flat, dout_flat, out_flat, r[0], r[1]),
             _jobs(out.size))
    return dx


class FastReLU(ReLU):
    """:class:`~alexnet_np.layers.ReLU` computed by :func:`relu_forward_fast`."""

    def forward(self, x):
        out, self.cache = relu_forward_fast(x)
        return out

    def backward(self, dout):
        return relu_backward_fast(dout, self.cache)
