"""Softmax cross-entropy on the GPU: the loss of fc8 (paper sec. 3.5), and its gradient.

For logits z (N, K) and integer labels y (N,)::

    m[n]     = max_k z[n, k]
    lse[n]   = m[n] + log sum_k exp(z[n, k] - m[n])
    loss     = (1/N) sum_n (lse[n] - z[n, y[n]])
    dz[n, k] = (exp(z[n, k] - lse[n]) - [k == y[n]]) / N

Kernel 1: one thread per row n (grid-stride; N is the batch, at most a few hundred): three
passes over the row (max, sum of exps, write dz) and the row's loss into ``row_loss``.
Kernel 2: one thread adds the N row losses in order and divides by N, so the loss is
deterministic and only one float crosses the bus.
"""

import math

import numpy as np
from numba import cuda, float32

from ..layers.softmax_xent import softmax_xent_backward, softmax_xent_forward
from .common import empty, grid_1d, max_rel_err, report, simulator, time_call, to_device


@cuda.jit
def xent_rows_kernel(dz, row_loss, z, labels):
    n, k = z.shape
    inv_n = float32(1.0) / float32(n)
    for r in range(cuda.grid(1), n, cuda.gridsize(1)):
        m = z[r, 0]
        for c in range(1, k):
            m = max(m, z[r, c])
        s = float32(0.0)
        for c in range(k):
            s += math.exp(z[r, c] - m)
        lse = m + math.log(s)
        y = labels[r]
        row_loss[r] = lse - z[r, y]
        for c in range(k):
            g = math.exp(z[r, c] - lse)
            if c == y:
                g -= float32(1.0)
            dz[r, c] = g * inv_n


@cuda.jit
def mean_kernel(loss, row_loss):
    if cuda.grid(1) == 0:
        acc = float32(0.0)
        for r in range(row_loss.size):
            acc += row_loss[r]
        loss[0] = acc / float32(row_loss.size)


def softmax_xent(loss, row_loss, dz, z, labels):
    """Fill ``dz`` (N, K), ``row_loss`` (N,) and ``loss`` (1,) from logits and int labels."""
    xent_rows_kernel[grid_1d(z.shape[0], threads=128)](dz, row_loss, z, labels)
    mean_kernel[1, 1](loss, row_loss)
    return loss


def _main():
    rng = np.random.default_rng(0)
    (n, k), repeat = ((5, 7), 1) if simulator() else ((128, 1000), 50)
    z = (rng.standard_normal((n, k)) * 30).astype(np.float32)
    y = rng.integers(0, k, n)
    loss_ref, cache = softmax_xent_forward(z, y)
    dz_ref = softmax_xent_backward(1.0, cache)
    d_z, d_y = to_device(z), cuda.to_device(y.astype(np.int64))
    d_loss, d_rows, d_dz = empty(1), empty(n), empty((n, k))
    fn = lambda: softmax_xent(d_loss, d_rows, d_dz, d_z, d_y)  # noqa: E731
    fn()
    report("softmax_xent loss", max_rel_err(d_loss.copy_to_host()[0], loss_ref), 1e-5,
           time_call(fn, repeat=repeat))
    report("softmax_xent dlogits", max_rel_err(d_dz.copy_to_host(), dz_ref), 1e-5)


if __name__ == "__main__":
    _main()
