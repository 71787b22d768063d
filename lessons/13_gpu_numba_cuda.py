"""Lesson 13 - GPU kernels with Numba CUDA: threads, blocks, shared memory, the simulator.

The paper trained on two GTX 580s with hand-written CUDA (cuda-convnet). Without a GPU this
lesson switches on Numba's simulator (NUMBA_ENABLE_CUDASIM=1): every GPU thread becomes a
Python thread, right for logic and bounds, blind to races, slow - so shapes stay tiny.
Run: python lessons/13_gpu_numba_cuda.py [--quick]
"""

# %%
import os
import sys

if not os.path.exists("/dev/nvidiactl"):
    os.environ.setdefault("NUMBA_ENABLE_CUDASIM", "1")  # before numba.cuda is imported
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)) if "__file__" in globals()
                else os.path.abspath("lessons"))
import _common as C
import matplotlib.pyplot as plt
import numpy as np
from numba import cuda

TILE = 4


def ceil_div(a, b):
    return -(-a // b)


@cuda.jit
def relu_kernel(out, x):
    i = cuda.grid(1)  # blockIdx.x * blockDim.x + threadIdx.x
    if i < x.size:  # the last block may stick out past the end
        out[i] = x[i] if x[i] > 0 else 0.0


@cuda.jit
def add2d_kernel(out, a, b):
    r, c = cuda.grid(2)
    if r < out.shape[0] and c < out.shape[1]:
        out[r, c] = a[r, c] + b[r, c]


@cuda.jit
def matmul_tiled(out, a, b):
    sa = cuda.shared.array((TILE, TILE), dtype=np.float32)
    sb = cuda.shared.array((TILE, TILE), dtype=np.float32)
    r, c = cuda.grid(2)
    tr, tc = cuda.threadIdx.x, cuda.threadIdx.y
    acc = 0.0
    for t in range(ceil_div(a.shape[1], TILE)):
        # phase 1: every thread loads one element of each tile (zeros outside the matrix)
        k = t * TILE + tc
        sa[tr, tc] = a[r, k] if r < a.shape[0] and k < a.shape[1] else 0.0
        k = t * TILE + tr
        sb[tr, tc] = b[k, c] if k < b.shape[0] and c < b.shape[1] else 0.0
        cuda.syncthreads()  # phase 2: wait until the whole tile is loaded (no thread skips it)
        for j in range(TILE):  # phase 3: accumulate from fast shared memory
            acc += sa[tr, j] * sb[j, tc]
        cuda.syncthreads()  # phase 4: wait before the next tile overwrites this one
    if r < out.shape[0] and c < out.shape[1]:  # write last: no early return before a sync
        out[r, c] = acc


def main(argv=None):
    args = C.parse(argv, __doc__)
    sim = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"
    print("running on the", "CUDA simulator" if sim else "GPU")
    rng = np.random.default_rng(0)
    C.section("1. One thread per element: ReLU")
    x = rng.standard_normal(37).astype(np.float32)
    out = np.zeros_like(x)
    threads = 16
    relu_kernel[ceil_div(x.size, threads), threads](out, x)
    print(f"{x.size} elements, blocks of {threads}: {ceil_div(x.size, threads)} blocks")
    C.check(np.array_equal(out, np.maximum(x, 0)), "GPU ReLU == NumPy")
    C.section("2. A 2-D grid")
    a, b = rng.standard_normal((5, 7)).astype(np.float32), np.ones((5, 7), np.float32)
    o = np.zeros_like(a)
    add2d_kernel[(ceil_div(5, 4), ceil_div(7, 4)), (4, 4)](o, a, b)
    C.check(np.allclose(o, a + b), "2-D grid add == NumPy")
    C.section("3. Shared-memory tiled matmul")
    n = 6 if args.quick else 10
    a = rng.standard_normal((n, n + 1)).astype(np.float32)
    b = rng.standard_normal((n + 1, n - 1)).astype(np.float32)
    o = np.zeros((n, n - 1), np.float32)
    matmul_tiled[(ceil_div(n, TILE), ceil_div(n - 1, TILE)), (TILE, TILE)](o, a, b)
    C.check(np.allclose(o, a @ b, atol=1e-4), "tiled matmul == a @ b (sizes not multiples "
            "of the tile)")
    C.section("4. The project's CUDA package: overlapping max-pooling")
    # alexnet_np/cuda/ holds one kernel file per op. The pooling backward GATHERS: one thread
    # per input element visits the windows that contain it and adds the dout of every window
    # it won, so no two threads write the same element (no atomics, deterministic).
    from alexnet_np.cuda.maxpool2d import maxpool2d_backward, maxpool2d_forward, pool_out_size
    from alexnet_np.layers import maxpool2d_backward as np_pool_backward
    from alexnet_np.layers import maxpool2d_forward as np_pool_forward

    x = rng.standard_normal((1, 2, 7, 7)).astype(np.float32)
    oh = pool_out_size(7, 3, 2)
    out = cuda.to_device(np.full((1, 2, oh, oh), np.nan, np.float32))  # poisoned
    arg = cuda.to_device(np.zeros((1, 2, oh, oh), np.int32))
    maxpool2d_forward(out, arg, cuda.to_device(x), 3, 2)
    ref_out, cache = np_pool_forward(x, 3, 2)
    print(f"7x7 input, window 3, stride 2 -> {oh}x{oh}: every output written, equal to NumPy")
    C.check(np.array_equal(out.copy_to_host(), ref_out), "GPU max-pool forward == NumPy")
    dout = rng.standard_normal(ref_out.shape).astype(np.float32)
    dx = cuda.to_device(np.full(x.shape, np.nan, np.float32))
    maxpool2d_backward(dx, cuda.to_device(dout), arg, 3, 2)
    C.check(np.allclose(dx.copy_to_host(), np_pool_backward(dout, cache), atol=1e-6),
          "GPU max-pool backward (gather) == NumPy (accumulate over overlapping windows)")
    fig, ax = plt.subplots(figsize=(3, 3))
    ax.imshow(np.arange(16).reshape(4, 4) // 1, cmap="tab20")
    ax.set_title("one 4x4 block = one tile")
    C.savefig(fig, args.out, "13_tile.png")
    print("\nLesson 13 done: every self-check passed.")
    return 0


# %%
if __name__ == "__main__":
    raise SystemExit(main())
