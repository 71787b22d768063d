# %% [markdown]
# # Lesson 13 - GPU kernels with Numba CUDA: threads, blocks, shared memory
#
# The paper trained on two GTX 580s with hand-written CUDA (cuda-convnet, sec. 3.2). A CUDA
# kernel is one function run by thousands of threads; each thread finds its element from its
# block and thread index. Without a GPU this lesson switches on Numba's simulator
# (`NUMBA_ENABLE_CUDASIM=1`): every GPU thread becomes a Python thread, right for logic and
# bounds, blind to races, slow, so shapes stay tiny.
#
# **You will be able to:** launch a 1-D and a 2-D grid, guard the threads that fall outside
# the array, and read a shared-memory tiled matrix product.

# %%
import os

if not os.path.exists("/dev/nvidiactl"):
    os.environ.setdefault("NUMBA_ENABLE_CUDASIM", "1")  # before numba.cuda is imported
import _common as C
import matplotlib.pyplot as plt
import numpy as np
from numba import cuda

QUICK = C.QUICK
TILE = 4
SIM = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"
print("running on the", "CUDA simulator" if SIM else "GPU")
rng = np.random.default_rng(0)


def ceil_div(a, b):
    return -(-a // b)


# %% [markdown]
# ## 1. One thread per element: ReLU
#
# `cuda.grid(1)` is `blockIdx.x * blockDim.x + threadIdx.x`. We launch whole blocks, so the
# last block can stick out past the end of the array: those threads must do nothing.

# %%
@cuda.jit
def relu_kernel(out, x):
    i = cuda.grid(1)  # blockIdx.x * blockDim.x + threadIdx.x
    if i < x.size:  # the last block may stick out past the end
        out[i] = x[i] if x[i] > 0 else 0.0


x = rng.standard_normal(37).astype(np.float32)
out = np.zeros_like(x)
threads = 16
relu_kernel[ceil_div(x.size, threads), threads](out, x)
print(f"{x.size} elements, blocks of {threads}: {ceil_div(x.size, threads)} blocks, "
      f"{ceil_div(x.size, threads) * threads - x.size} idle threads")
C.check(np.array_equal(out, np.maximum(x, 0)), "GPU ReLU == NumPy")


# %% [markdown]
# ## 2. A 2-D grid, and the threads that must stay idle
#
# A 5x7 array covered by 4x4 blocks needs a 2x2 grid of blocks: 64 threads for 35 elements.
# The figure shows which thread handles which element; the grey threads fail the bounds test.

# %%
@cuda.jit
def add2d_kernel(out, a, b):
    r, c = cuda.grid(2)
    if r < out.shape[0] and c < out.shape[1]:
        out[r, c] = a[r, c] + b[r, c]


a, b = rng.standard_normal((5, 7)).astype(np.float32), np.ones((5, 7), np.float32)
o = np.zeros_like(a)
grid = (ceil_div(5, 4), ceil_div(7, 4))
add2d_kernel[grid, (4, 4)](o, a, b)
C.check(np.allclose(o, a + b), "2-D grid add == NumPy")

block_id = np.add.outer(np.arange(8) // 4 * grid[1], np.arange(8) // 4).astype(float)
inside = np.add.outer(np.arange(8) < 5, np.zeros(8)).astype(bool) & (np.arange(8) < 7)
fig, ax = plt.subplots(figsize=(4.2, 4.2))
ax.imshow(np.where(inside, block_id, np.nan), cmap="Pastel1", vmin=0, vmax=8)
ax.imshow(np.where(inside, np.nan, 0.5), cmap="gray", vmin=0, vmax=1, alpha=0.5)
for r in range(8):
    for c in range(8):
        ax.text(c, r, f"{r},{c}", ha="center", va="center", fontsize=6,
                color="k" if inside[r, c] else "0.4")
ax.add_patch(plt.Rectangle((-0.5, -0.5), 7, 5, fill=False, lw=2, ec="k"))
for k in (3.5,):
    ax.axhline(k, color="b", lw=1)
    ax.axvline(k, color="b", lw=1)
ax.set_title("2x2 blocks of 4x4 threads over a 5x7 array\n(colour = block; grey = "
             "out of bounds, idle)", fontsize=8)
ax.set_xticks([])
ax.set_yticks([])
C.show(fig, "13_grid.png")

# %% [markdown]
# ## 3. Shared-memory tiled matmul
#
# Each block computes one TILE x TILE tile of the output. In phases it loads a tile of `a` and
# a tile of `b` into fast shared memory (one element per thread, zeros outside the matrix),
# waits until the whole tile is loaded, accumulates, and waits again before the next load
# overwrites the tile. Every thread reaches both `syncthreads()` calls: none returns early.

# %%
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


n = 6 if QUICK else 10
a = rng.standard_normal((n, n + 1)).astype(np.float32)
b = rng.standard_normal((n + 1, n - 1)).astype(np.float32)
o = np.zeros((n, n - 1), np.float32)
matmul_tiled[(ceil_div(n, TILE), ceil_div(n - 1, TILE)), (TILE, TILE)](o, a, b)
C.check(np.allclose(o, a @ b, atol=1e-4), "tiled matmul == a @ b (sizes not multiples of the "
        "tile)")

# %% [markdown]
# ## 4. The project's CUDA package: overlapping max-pooling
#
# `alexnet_np/cuda/` holds one kernel file per op. The pooling backward *gathers*: one thread
# per input element visits the windows that contain it and adds the `dout` of every window it
# won, so no two threads write the same element (no atomics, deterministic) - the sum of
# lesson 05, computed from the input's side.

# %%
from alexnet_np.cuda.maxpool2d import maxpool2d_backward, maxpool2d_forward, pool_out_size
from alexnet_np.layers import maxpool2d_backward as np_pool_backward
from alexnet_np.layers import maxpool2d_forward as np_pool_forward

x = rng.standard_normal((1, 2, 7, 7)).astype(np.float32)
oh = pool_out_size(7, 3, 2)
out = cuda.to_device(np.full((1, 2, oh, oh), np.nan, np.float32))  # poisoned
arg = cuda.to_device(np.zeros((1, 2, oh, oh), np.int32))
maxpool2d_forward(out, arg, cuda.to_device(x), 3, 2)
ref_out, cache = np_pool_forward(x, 3, 2)
C.check(np.array_equal(out.copy_to_host(), ref_out), "GPU max-pool forward == NumPy")
dout = rng.standard_normal(ref_out.shape).astype(np.float32)
dx = cuda.to_device(np.full(x.shape, np.nan, np.float32))
maxpool2d_backward(dx, cuda.to_device(dout), arg, 3, 2)
C.check(np.allclose(dx.copy_to_host(), np_pool_backward(dout, cache), atol=1e-6),
        "GPU max-pool backward (gather) == NumPy (accumulate over overlapping windows)")

# %% [markdown]
# ## Exercises
#
# - Move the `if r < ... and c < ...` test of `matmul_tiled` around the whole loop. Why can
#   that hang or corrupt a real GPU run, and why does the simulator not always show it?
# - How many blocks does conv1's output (128, 96, 55, 55) need with 256 threads per block?
