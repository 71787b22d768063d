"""The paper's SGD update on the GPU (sec. 5), for all parameters in ONE launch.

For every weight w with gradient g, velocity v, learning rate lr, momentum m, decay wd::

    v <- m v - wd lr w - lr g
    w <- w + v

The stepper keeps all parameters in one flat float32 buffer (each layer's W and b are views
into it), and likewise all gradients and velocities, so one grid-stride kernel updates the
whole network. The scalars are float32 and the operations come in the order of
``optim.SGD.step`` (v *= m; v -= (wd lr) w; v -= lr g; w += v). On a GPU the compiler fuses
``v m - (wd lr) w`` into fused multiply-adds (one rounding instead of two), so the results may
differ from NumPy's by an ulp (seen on an H200).
"""

import numpy as np
from numba import cuda, float32

from ..optim import SGD
from .common import grid_1d, max_rel_err, report, simulator, time_call, to_device


@cuda.jit
def sgd_kernel(w, v, g, m, wd_lr, lr):
    for i in range(cuda.grid(1), w.size, cuda.gridsize(1)):
        vi = v[i] * m
        vi = vi - wd_lr * w[i]
        vi = vi - lr * g[i]
        v[i] = vi
        w[i] = w[i] + vi


def sgd_update(w, v, g, lr, momentum, weight_decay):
    """In place on flat device arrays ``w``, ``v`` (and read-only ``g``)."""
    sgd_kernel[grid_1d(w.size)](w, v, g, float32(momentum), float32(weight_decay * lr),
                                float32(lr))


def _main():
    rng = np.random.default_rng(0)
    size, repeat = (77, 1) if simulator() else (60_965_224, 20)
    w = rng.standard_normal(size).astype(np.float32)
    v = rng.standard_normal(size).astype(np.float32)
    g = rng.standard_normal(size).astype(np.float32)
    d_w, d_v, d_g = to_device(w), to_device(v), to_device(g)
    opt = SGD({"w": w}, lr=0.01)
    opt.velocity["w"][...] = v
    opt.step({"w": g})
    sgd_update(d_w, d_v, d_g, 0.01, 0.9, 0.0005)
    report("sgd w", max_rel_err(d_w.copy_to_host(), w), 1e-6)
    report("sgd v", max_rel_err(d_v.copy_to_host(), opt.velocity["w"]), 1e-6,
           time_call(lambda: sgd_update(d_w, d_v, d_g, 0.01, 0.9, 0.0005), repeat=repeat))

if __name__ == "__main__":
    _main()
