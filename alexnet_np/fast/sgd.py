"""The paper's SGD update (``optim.SGD``) as one fused pass over each parameter.

The reference ``SGD.step`` writes the update as four NumPy statements::

    v *= m;  v -= (wd * lr) * w;  v -= lr * g;  w += v

which read and write the 61 M parameters' arrays about ten times and allocate two temporaries
as large as fc6's weights (151 MB) on every step. :func:`sgd_update` does the same arithmetic
in one parallel pass (jobs on the workers of ``threads.py``): each element reads w, v, g once
and writes v, w once.

The loop runs over slices of the three arrays (``w[i0:i1]`` ...) indexed from 0, not over
``range(i0, i1)`` of the whole arrays: written the second way, LLVM left the loop scalar
(``vmulss``, one float at a time), and the paper preset's update of its 61 M parameters took
61.7 ms on two workers; over the slices it is vectorised (``vmulps``) and takes 27.5 ms, with
the same arithmetic, so the same bits (docs/performance.md, round 6).
"""

from numba import njit

from ..optim import SGD
from .threads import run_jobs, split

PARALLEL_SIZE = 1 << 16  # smaller parameters are updated in one job


@njit(nogil=True, cache=True, error_model="numpy")
def sgd_update(w, v, g, i0, i1, lr, m, wd):
    """In place, elementwise on flat arrays: ``v <- m v - wd lr w - lr g``; ``w <- w + v``,
    for the elements i0 <= i < i1."""
    wd_lr = wd * lr
    ws, vs, gs = w[i0:i1], v[i0:i1], g[i0:i1]  # (i1 - i0,) views: see the module note
    for i in range(ws.size):
        vi = m * vs[i] - wd_lr * ws[i] - lr * gs[i]
        vs[i] = vi
        ws[i] += vi


def sgd_update_parallel(w, v, g, lr, m, wd):
    """:func:`sgd_update` on flat arrays, in ranges spread over the workers."""
    t = w.dtype.type
    parts = 8 if w.size >= PARALLEL_SIZE else 1
    run_jobs(lambda r: sgd_update(w, v, g, r[0], r[1], t(lr), t(m), t(wd)),
             split(w.size, parts))


class FastSGD(SGD):
    """:class:`~alexnet_np.optim.SGD` with the fused update; identical results up to
    rounding (the reference rounds after each of its statements)."""

    def step(self, grads):
        lr, m, wd = self.lr, self.momentum, self.weight_decay
        for name, w in self.params.items():
            v, g = self.velocity[name], grads[name]
            if (w.flags.c_contiguous and v.flags.c_contiguous and g.flags.c_contiguous
                    and w.dtype == v.dtype == g.dtype and w.shape == g.shape):
                sgd_update_parallel(w.reshape(-1), v.reshape(-1), g.reshape(-1), lr, m, wd)
            else:  # unusual arrays: the reference statements
                v *= m
                v -= (wd * lr) * w
                v -= lr * g
                w += v
