"""Elementwise non-linearities on the GPU: ReLU (the paper's, sec. 3.1) and tanh (its Fig. 1
baseline). Thread per element, grid-stride; any shape (the kernels see flat views).

    relu   out = max(0, x)        dx = dout * (out > 0)
    tanh   out = tanh(x)          dx = dout * (1 - out^2)

Both backward passes read the forward OUTPUT (out > 0 exactly where x > 0), as in
``layers/relu.py``, so the input need not be kept.
"""

import math

import numpy as np
from numba import cuda, float32

from ..layers import relu as np_relu
from .common import empty, grid_1d, max_rel_err, report, simulator, time_call, to_device


@cuda.jit
def relu_fwd_kernel(out, x):
    for i in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        out[i] = max(x[i], float32(0.0))


@cuda.jit
def relu_bwd_kernel(dx, dout, out):
    for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        dx[i] = dout[i] if out[i] > float32(0.0) else float32(0.0)


@cuda.jit
def tanh_fwd_kernel(out, x):
    for i in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        out[i] = math.tanh(x[i])


@cuda.jit
def tanh_bwd_kernel(dx, dout, out):
    for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        dx[i] = dout[i] * (float32(1.0) - out[i] * out[i])


def flat(a):
    """A 1-D view of a C-contiguous device array."""
    return a.reshape(a.size)


def relu_forward(out, x):
    relu_fwd_kernel[grid_1d(x.size)](flat(out), flat(x))
    return out


def relu_backward(dx, dout, out):
    relu_bwd_kernel[grid_1d(out.size)](flat(dx), flat(dout), flat(out))
    return dx


def tanh_forward(out, x):
    tanh_fwd_kernel[grid_1d(x.size)](flat(out), flat(x))
    return out


def tanh_backward(dx, dout, out):
    tanh_bwd_kernel[grid_1d(out.size)](flat(dx), flat(dout), flat(out))
    return dx


def _main():
    rng = np.random.default_rng(0)
    shape, repeat = ((3, 37), 1) if simulator() else ((128, 96, 55, 55), 20)
    x = rng.standard_normal(shape).astype(np.float32)
    dout = rng.standard_normal(shape).astype(np.float32)
    d_x, d_dout, d_out, d_dx = to_device(x), to_device(dout), empty(shape), empty(shape)
    for name, fwd, bwd, nf, nb in (
        ("relu", relu_forward, relu_backward, np_relu.relu_forward, np_relu.relu_backward),
        ("tanh", tanh_forward, tanh_backward, np_relu.tanh_forward, np_relu.tanh_backward),
    ):
        ref, cache = nf(x)
        fwd(d_out, d_x)
        bwd(d_dx, d_dout, d_out)
        report(f"{name} forward", max_rel_err(d_out.copy_to_host(), ref), 1e-6,
               time_call(lambda f=fwd: f(d_out, d_x), repeat=repeat))
        report(f"{name} backward", max_rel_err(d_dx.copy_to_host(), nb(dout, cache)), 1e-6,
               time_call(lambda b=bwd: b(d_dx, d_dout, d_out), repeat=repeat))


if __name__ == "__main__":
    _main()
