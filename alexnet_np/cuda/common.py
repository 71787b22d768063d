"""Shared helpers for the CUDA kernels: grid sizes, device detection, poisoning, timing.

Nothing here touches the GPU at import time, so ``import alexnet_np.cuda`` works on a machine
without one. Every 1-D kernel in this package is written as a grid-stride loop::

    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        ...

so it is correct for any grid size. On a GPU :func:`grid_1d` launches one thread per element
(up to a cap); in Numba's simulator, where each thread is a Python thread costing about a
millisecond, it launches two blocks of 32 threads and lets the loop do the rest.
"""

import math
import time

import numba
import numpy as np
from numba import cuda

from ..errors import UserError

NO_GPU_MESSAGE = (
    "no CUDA GPU found (numba.cuda.is_available() is False); use --device cpu, or set "
    "NUMBA_ENABLE_CUDASIM=1 to run the kernels in Numba's simulator"
)


def ceil_div(a, b):
    """``ceil(a / b)`` for positive integers: the number of blocks that cover ``a`` items."""
    return (a + b - 1) // b


def simulator():
    """True when Numba's CUDA simulator is on (``NUMBA_ENABLE_CUDASIM=1``)."""
    return bool(numba.config.ENABLE_CUDASIM)


def gpu_available():
    """True when kernels can run: a real CUDA GPU, or the simulator."""
    if simulator():
        return True
    try:
        return bool(cuda.is_available())
    except Exception:  # a broken driver install counts as "no GPU"
        return False


def require_gpu():
    """Raise :class:`UserError` (one clear line for the CLI) when no kernels can run."""
    if not gpu_available():
        raise UserError(NO_GPU_MESSAGE)


# Seconds per image of an eval-mode forward pass of the micro preset in the simulator (the
# default v3 kernels, batch 2, 2-core machine: 8.2-8.8 s of CPU per image at micro's widths
# 8-16-16-16-32 / 32-32; the earlier 4-8-8-8-8 / 16-16 took 5-6 s): every GPU thread is a
# Python thread.
SIM_SECONDS_PER_IMAGE = 8.0


def simulator_note(n_val, arch):
    """A one-line warning with a time estimate when training in the simulator, else None."""
    if not simulator():
        return None
    minutes = n_val * SIM_SECONDS_PER_IMAGE / 60
    size = "roughly" if arch == "micro" else "more than"  # larger presets: slower than micro
    return (f"warning: NUMBA_ENABLE_CUDASIM=1 runs every GPU thread as a Python thread; "
            f"validating {n_val:,} images each epoch will take {size} {minutes:,.0f} minutes "
            f"(~{SIM_SECONDS_PER_IMAGE:.0f} s per image for micro); for a quick check use "
            f"--arch micro --val-size 8 --max-steps 2")


def device_name():
    """A human-readable name of the device the kernels run on."""
    if simulator():
        return "Numba CUDA simulator (NUMBA_ENABLE_CUDASIM=1)"
    dev = cuda.get_current_device()
    name = dev.name.decode() if isinstance(dev.name, bytes) else str(dev.name)
    return f"{name} (compute capability {dev.compute_capability[0]}.{dev.compute_capability[1]})"


def grid_1d(n, threads=256):
    """``(blocks, threads)`` for a grid-stride kernel over ``n`` items (see module docstring)."""
    if simulator():
        return max(1, min(ceil_div(n, 32), 2)), 32
    return max(1, min(ceil_div(n, threads), 65535 * 8)), threads


def poison(d_array, value=np.nan):
    """Fill a device array with NaN (or ``value``) so that unwritten elements are caught."""
    d_array.copy_to_device(np.full(d_array.shape, value, dtype=d_array.dtype))
    return d_array


def empty(shape, dtype=np.float32):
    """An uninitialised device array."""
    return cuda.device_array(shape, dtype=dtype)


def to_device(a, dtype=np.float32):
    """Copy a host array to the device as a C-contiguous array of ``dtype``."""
    return cuda.to_device(np.ascontiguousarray(a, dtype=dtype))


def time_call(fn, repeat=10, warmup=1):
    """Mean wall time of ``fn()`` in milliseconds, with ``cuda.synchronize()`` around it."""
    for _ in range(warmup):
        fn()
    cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(repeat):
        fn()
    cuda.synchronize()
    return (time.perf_counter() - t0) * 1e3 / repeat


def torch_fp32():
    """PyTorch with a CUDA GPU and TF32 off (the float32 measuring stick), or None."""
    try:
        import torch  # optional: PyTorch is only the measuring stick
    except ImportError:
        return None
    if not torch.cuda.is_available():
        return None
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    return torch


def max_rel_err(a, b):
    """``max |a - b| / max(1, max |b|)``: the error measure every self-check prints."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"shape mismatch {a.shape} vs {b.shape}")
    if not np.all(np.isfinite(a)):
        return math.inf
    return float(np.max(np.abs(a - b), initial=0.0) / max(1.0, float(np.max(np.abs(b),
                                                                              initial=0.0))))


def report(name, err, tol, ms=None):
    """Print one self-check line; raise if the error is above ``tol``."""
    timing = "" if ms is None else f"  {ms:9.3f} ms"
    print(f"{name:<40} max rel err {err:.2e} (tol {tol:.0e}){timing}")
    if not err <= tol:
        raise AssertionError(f"{name}: error {err} above {tol}")
