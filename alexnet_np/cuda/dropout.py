"""Inverted dropout on the GPU with a counter-based mask (paper sec. 4.2, p = 0.5 after fc6
and fc7).

Training::

    keep[i] = u(key, i) >= p,        u in [0, 1) from a hash of (key, i)
    out[i]  = x[i] * keep[i] / (1 - p)           dx[i] = dout[i] * keep[i] / (1 - p)

Evaluation: out = x.

Counter-based, not stored: the mask bit of element i is a pure function of a 32-bit ``key``
(derived from the run's seed, the layer and the step by :func:`dropout_key`) and of i. Nothing
is copied over the bus and nothing is stored between forward and backward: the backward
kernel recomputes the same bits. :func:`dropout_mask_numpy` is the NumPy twin, so CPU code
can reproduce the GPU's masks exactly (the test checks bit-for-bit equality). The hash is a
32-bit integer mixer (xor-shift / multiply, in the style of Wellons' lowbias32) applied twice;
its multipliers are below 2^31, so every product fits in a signed 64-bit integer both in
compiled kernels and in NumPy. Note the CPU ``Dropout`` layer draws from a
``numpy.random.Generator`` instead, so CPU and GPU training agree exactly only with dropout 0.
"""

import numpy as np
from numba import cuda, float32

from .common import empty, grid_1d, max_rel_err, report, simulator, time_call, to_device

MASK32 = 0xFFFFFFFF
MUL1 = 0x7FEB352D
MUL2 = 0x2C1B3C6D  # odd, below 2**31


def mix32(h):
    """The mixer: 32 bits in, 32 bits out. One source for both sides: plain Python runs it on
    ints and NumPy uint64 arrays, ``_mix32`` below is the same function compiled for the GPU."""
    h = h ^ (h >> 16)
    h = (h * MUL1) & MASK32
    h = h ^ (h >> 15)
    h = (h * MUL2) & MASK32
    h = h ^ (h >> 16)
    return h


_mix32 = cuda.jit(device=True, inline="always")(mix32)


@cuda.jit(device=True, inline="always")
def _keep(key, i, p):
    u = float32(_mix32(_mix32(i & MASK32) ^ key) >> 8) * float32(1.0 / 16777216.0)
    return u >= p


def dropout_key(seed, layer_index, step):
    """The 32-bit key of one layer's mask at one training step."""
    return mix32(mix32(mix32(seed & MASK32) ^ (layer_index & MASK32))
                     ^ (step & MASK32))


def dropout_mask_numpy(key, size, p):
    """The NumPy twin: boolean keep-mask of ``size`` elements, equal to the kernels' mask."""
    i = np.arange(size, dtype=np.uint64)
    h = mix32(mix32(i & np.uint64(MASK32)) ^ np.uint64(key))
    u = (h >> np.uint64(8)).astype(np.float32) * np.float32(1.0 / 16777216.0)
    return u >= np.float32(p)


@cuda.jit
def dropout_fwd_kernel(out, x, key, p, scale):
    for i in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        out[i] = x[i] * scale if _keep(key, i, p) else float32(0.0)


@cuda.jit
def dropout_bwd_kernel(dx, dout, key, p, scale):
    for i in range(cuda.grid(1), dout.size, cuda.gridsize(1)):
        dx[i] = dout[i] * scale if _keep(key, i, p) else float32(0.0)


def dropout_forward(out, x, p, key):
    """Training-mode dropout of ``x`` into ``out`` (any shape, C-contiguous)."""
    scale = float32(1.0 / (1.0 - p))
    dropout_fwd_kernel[grid_1d(x.size)](out.reshape(out.size), x.reshape(x.size), key,
                                        float32(p), scale)
    return out


def dropout_backward(dx, dout, p, key):
    scale = float32(1.0 / (1.0 - p))
    dropout_bwd_kernel[grid_1d(dout.size)](dx.reshape(dx.size), dout.reshape(dout.size), key,
                                           float32(p), scale)
    return dx


def _main():
    rng = np.random.default_rng(0)
    shape, repeat = ((3, 41), 1) if simulator() else ((128, 4096), 50)
    p, key = 0.5, dropout_key(1234, 6, 0)
    x = rng.standard_normal(shape).astype(np.float32)
    keep = dropout_mask_numpy(key, x.size, p).reshape(shape)
    ref = x * keep / np.float32(1 - p)
    d_x, d_out, d_dx = to_device(x), empty(shape), empty(shape)
    dropout_forward(d_out, d_x, p, key)
    dropout_backward(d_dx, d_x, p, key)
    report("dropout forward", max_rel_err(d_out.copy_to_host(), ref), 1e-6,
           time_call(lambda: dropout_forward(d_out, d_x, p, key), repeat=repeat))
    report("dropout backward", max_rel_err(d_dx.copy_to_host(), ref), 1e-6)
    print(f"kept fraction {keep.mean():.3f} (expected {1 - p})")


if __name__ == "__main__":
    _main()
