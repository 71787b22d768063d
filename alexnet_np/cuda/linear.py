"""Fully connected layers fc6, fc7, fc8 on the GPU (paper sec. 3.5) with the GEMMs of gemm.py.

    forward   out (N, O) = x (N, I) @ W^T (I, O) + b        gemm(trans_b) + bias kernel
    backward  dx (N, I)  = dout (N, O) @ W (O, I)           gemm
              dW (O, I)  = dout^T (O, N) @ x (N, I)         gemm(trans_a)
              db (O,)    = column sums of dout              reduce.sum_cols
"""

import numpy as np
from numba import cuda

from ..layers.linear import linear_backward as np_bwd
from ..layers.linear import linear_forward as np_fwd
from .common import empty, grid_1d, max_rel_err, report, simulator, time_call, to_device
from .gemm import VERSIONS, gemm
from .reduce import sum_cols


@cuda.jit
def add_bias_kernel(out, b):
    """out[n, o] += b[o], thread per element (grid-stride)."""
    n, o = out.shape
    for idx in range(cuda.grid(1), n * o, cuda.gridsize(1)):
        out[idx // o, idx % o] += b[idx % o]


def linear_forward(out, x, W, b, version="tiled128"):
    gemm(out, x, W, trans_b=True, version=version)
    add_bias_kernel[grid_1d(out.size)](out, b)
    return out


def linear_backward(dx, dW, db, dout, x, W, version="tiled128"):
    """Fill dW, db and (unless None) dx."""
    gemm(dW, dout, x, trans_a=True, version=version)
    sum_cols(db, dout)
    if dx is not None:
        gemm(dx, dout, W, version=version)
    return dx, dW, db


def _main():
    rng = np.random.default_rng(0)
    (n, i, o), repeat = ((3, 21, 17), 1) if simulator() else ((128, 9216, 4096), 10)
    x = rng.standard_normal((n, i)).astype(np.float32)
    W = rng.standard_normal((o, i)).astype(np.float32)
    b = rng.standard_normal(o).astype(np.float32)
    out_ref, cache = np_fwd(x, W, b)
    dout = rng.standard_normal(out_ref.shape).astype(np.float32)
    dx_ref, dw_ref, db_ref = np_bwd(dout, cache)
    d_x, d_W, d_b, d_dout = to_device(x), to_device(W), to_device(b), to_device(dout)
    d_out, d_dx, d_dW, d_db = empty((n, o)), empty((n, i)), empty((o, i)), empty(o)
    for v in VERSIONS:
        fwd = lambda v=v: linear_forward(d_out, d_x, d_W, d_b, v)  # noqa: E731
        bwd = lambda v=v: linear_backward(d_dx, d_dW, d_db, d_dout, d_x, d_W, v)  # noqa: E731
        fwd()
        bwd()
        report(f"linear {v} forward", max_rel_err(d_out.copy_to_host(), out_ref), 1e-4,
               time_call(fwd, repeat=repeat))
        report(f"linear {v} backward dx", max_rel_err(d_dx.copy_to_host(), dx_ref), 1e-4,
               time_call(bwd, repeat=repeat))
        report(f"linear {v} backward dW", max_rel_err(d_dW.copy_to_host(), dw_ref), 1e-4)
        report(f"linear {v} backward db", max_rel_err(d_db.copy_to_host(), db_ref), 1e-4)


if __name__ == "__main__":
    _main()
