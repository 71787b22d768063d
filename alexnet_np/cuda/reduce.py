"""Reductions for the bias gradients (conv and fc ``db``).

- :func:`sum_rows`: ``out[r] = sum_c X[r, c]`` for a (R, Ccols) matrix, one block per row
  (grid-stride over rows). Each thread adds a strided slice of the row, then the block halves
  its shared partial sums until one value is left (a tree reduction: sync, add the upper half
  into the lower half, sync, ...). Used for conv ``db[f] = sum_{n,i,j} dout[n, f, i, j]`` on
  the (F, N*OH*OW) matrix of the GEMM path.
- :func:`sum_cols`: ``out[c] = sum_r X[r, c]``, one thread per column looping down the rows.
  Used for fc ``db[o] = sum_n dout[n, o]``; the batch is small, the columns many (4096), and
  consecutive threads read consecutive addresses.
- :func:`sum_channels`: ``out[f] = sum_{n,i,j} X[n, f, i, j]``, one thread per channel; the
  plain version the naive conv path uses.

Deterministic: no atomics, every sum is taken in a fixed order.
"""

import numba
import numpy as np
from numba import cuda, float32

from .common import grid_1d, max_rel_err, report, simulator, time_call, to_device

# threads per row in sum_rows; a power of two (the tree halves it). 32 in the simulator, where
# each thread is a Python thread.
BLOCK = 32 if numba.config.ENABLE_CUDASIM else 256


@cuda.jit
def sum_rows_kernel(out, X):
    """One block per row r (grid-stride over rows): out[r] = sum_c X[r, c]."""
    part = cuda.shared.array(BLOCK, dtype=float32)
    t = cuda.threadIdx.x
    rows, cols = X.shape
    for r in range(cuda.blockIdx.x, rows, cuda.gridDim.x):
        # --- each thread sums a strided slice of the row
        acc = float32(0.0)
        for c in range(t, cols, BLOCK):
            acc += X[r, c]
        part[t] = acc
        cuda.syncthreads()
        # --- tree: sync, add upper half into lower half, repeat (every thread reaches each sync)
        half = BLOCK // 2
        while half > 0:
            if t < half:
                part[t] += part[t + half]
            cuda.syncthreads()
            half //= 2
        if t == 0:
            out[r] = part[0]
        cuda.syncthreads()  # part[0] is read before the next row overwrites it


@cuda.jit
def sum_cols_kernel(out, X):
    """One thread per column c (grid-stride): out[c] = sum_r X[r, c]."""
    rows, cols = X.shape
    for c in range(cuda.grid(1), cols, cuda.gridsize(1)):
        acc = float32(0.0)
        for r in range(rows):
            acc += X[r, c]
        out[c] = acc


@cuda.jit
def sum_channels_kernel(out, X):
    """One thread per channel f (grid-stride): out[f] = sum_{n,i,j} X[n, f, i, j]."""
    n, f, h, w = X.shape
    for c in range(cuda.grid(1), f, cuda.gridsize(1)):
        acc = float32(0.0)
        for i_n in range(n):
            for i in range(h):
                for j in range(w):
                    acc += X[i_n, c, i, j]
        out[c] = acc


def sum_rows(out, X):
    """``out[r] = X[r, :].sum()`` on the device."""
    blocks = min(X.shape[0], 2 if simulator() else 4096)
    sum_rows_kernel[blocks, BLOCK](out, X)
    return out


def sum_cols(out, X):
    """``out[c] = X[:, c].sum()`` on the device."""
    sum_cols_kernel[grid_1d(X.shape[1])](out, X)
    return out


def sum_channels(out, X):
    """``out[f] = X[:, f].sum()`` for an (N, F, H, W) array."""
    sum_channels_kernel[grid_1d(X.shape[1])](out, X)
    return out


def _main():
    rng = np.random.default_rng(0)
    shape = (5, 300) if simulator() else (256, 128 * 27 * 27)
    x = rng.standard_normal(shape).astype(np.float32)
    dx = to_device(x)
    d_r, d_c = to_device(np.full(shape[0], np.nan)), to_device(np.full(shape[1], np.nan))
    sum_rows(d_r, dx)
    sum_cols(d_c, dx)
    report("sum_rows", max_rel_err(d_r.copy_to_host(), x.sum(1)), 1e-4,
           time_call(lambda: sum_rows(d_r, dx), repeat=1 if simulator() else 20))
    report("sum_cols", max_rel_err(d_c.copy_to_host(), x.sum(0)), 1e-4,
           time_call(lambda: sum_cols(d_c, dx), repeat=1 if simulator() else 20))


if __name__ == "__main__":
    _main()
