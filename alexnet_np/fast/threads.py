"""One pool of worker threads for the fast layers; BLAS on one thread while they run.

A convolution is im2col (a Numba loop) followed by matrix products (BLAS). Left to
themselves, both are parallel with pools of their own: Numba's threads run the loop, then
OpenBLAS's threads the product, and each pool keeps spinning for a while after its part ends,
on the very cores the other pool needs next. On a two-core machine that costs a third of the
convolution time, and much more when the machine is shared.

Here the batch is cut into JOBS (ranges of images) instead, and ``workers()`` threads each run
whole jobs: im2col for a few images into a buffer that stays in cache, then the products for
those images, with OpenBLAS set to one thread while the jobs run (and set back after, so
every other product, e.g. the fully connected layers', keeps all of BLAS's threads). The
Numba loops called by a job are serial and release the GIL (``nogil=True``), as NumPy's
matmul does, so the workers really run at the same time. One level of parallelism, no
spinning pool in the way. LRN, pooling and the SGD update run their (serial, GIL-free) Numba
loops on the same workers, a range of positions, planes or parameters per job.

Where NumPy's BLAS is not an OpenBLAS whose thread count can be set (MKL, Accelerate), the
jobs run one after the other in the calling thread and BLAS keeps its own threads: the same
results, the old speed.

The number of workers follows Numba's configured thread count (``NUMBA_NUM_THREADS``, by
default the number of CPUs), read without starting Numba's own thread pool, which no fast
layer uses: one knob for every fast layer.
"""

import ctypes
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numba

_THREAD_FUNCTIONS = [  # (get, set) as NumPy's wheels (scipy-openblas) and plain builds name them
    ("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),
    ("scipy_openblas_get_num_threads", "scipy_openblas_set_num_threads"),
    ("openblas_get_num_threads64_", "openblas_set_num_threads64_"),
    ("openblas_get_num_threads", "openblas_set_num_threads"),
]
_state = {"blas": None, "searched": False, "pool": None, "size": 0}
_lock = threading.Lock()


def blas_threads():
    """OpenBLAS's ``(get_num_threads, set_num_threads)`` as ctypes functions, or None.

    Found in the OpenBLAS library NumPy has loaded (listed in ``/proc/self/maps``, Linux).
    """
    if _state["searched"]:
        return _state["blas"]
    _state["searched"] = True
    try:
        with open("/proc/self/maps") as f:
            paths = sorted({line.split()[-1] for line in f
                            if "openblas" in line.lower() and ".so" in line})
    except OSError:
        return None
    for path in paths:
        if not os.path.isfile(path):
            continue
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for get_name, set_name in _THREAD_FUNCTIONS:
            get, put = getattr(lib, get_name, None), getattr(lib, set_name, None)
            if get is not None and put is not None:
                get.argtypes, get.restype = [], ctypes.c_int
                put.argtypes, put.restype = [ctypes.c_int], None
                _state["blas"] = (get, put)
                return _state["blas"]
    return None


def workers():
    """How many worker threads the fast layers use: ``NUMBA_NUM_THREADS`` (default: the
    number of CPUs), or 1 when BLAS's thread count cannot be set."""
    if blas_threads() is None:
        return 1
    return max(1, numba.config.NUMBA_NUM_THREADS)


def split(n, parts=8):
    """``range(n)`` cut into at most ``parts`` contiguous ``(start, stop)`` ranges, as equal as
    can be. Depends on n and parts only, never on the thread count."""
    bounds = [round(i * n / min(n, parts)) for i in range(min(n, parts) + 1)] if n else [0]
    return [(a, z) for a, z in zip(bounds[:-1], bounds[1:], strict=True) if z > a]


def chunked(lo, hi, most):
    """``range(lo, hi)`` cut into the fewest contiguous ``(start, stop)`` ranges of at most
    ``most`` (>= 1) items, as equal as can be: 8 images at most 7 a chunk give 4 + 4, not
    7 + 1, whose second product (one image) would run at a fraction of BLAS's rate."""
    n = hi - lo
    return [(lo + a, lo + z) for a, z in split(n, -(-n // most))] if n > 0 else []


def run_jobs(fn, jobs):
    """``[fn(job) for job in jobs]``, the jobs spread over the worker threads with OpenBLAS on
    one thread; results in the order of ``jobs`` (so sums over them are the same whatever
    thread ran what).

    BLAS is on one thread during the jobs also when there is only one worker: a product that
    OpenBLAS splits over its own threads may round differently (measured: conv2's weight
    gradient of the cifar preset), and then a run's numbers would depend on the number of
    workers. So they do not: the same jobs, in the same order, on any number of workers.
    """
    blas = blas_threads()
    if blas is None or len(jobs) == 1:
        return [fn(job) for job in jobs]
    n = workers()
    get, put = blas
    before = get()
    put(1)
    try:
        if n == 1:
            return [fn(job) for job in jobs]
        with _lock:
            if _state["pool"] is None or _state["size"] != n:
                if _state["pool"] is not None:
                    _state["pool"].shutdown()
                _state["pool"] = ThreadPoolExecutor(n, thread_name_prefix="alexnet-np")
                _state["size"] = n
            pool = _state["pool"]
        return list(pool.map(fn, jobs))
    finally:
        put(before)
