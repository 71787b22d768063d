"""Matrix multiplication on the GPU: the workhorse of fc6-fc8 and of every convolution.

Computes, for C (M, N)::

    C = alpha * op(A) @ op(B) + beta * C,    op(A) = A or A^T,  op(B) = B or B^T

with op(A) of shape (M, K) and op(B) of shape (K, N). The transposes are read in place (no
transposed copies), which gives every product training needs:

    fc forward     out  = x @ W^T         (trans_b)
    fc backward    dx   = dout @ W        dW = dout^T @ x   (trans_a)
    conv (im2col)  out  = W @ cols        dW = dout @ cols^T (trans_b)   dcols = W^T @ dout

Three versions (the ladder), all checked against ``numpy.matmul`` by
``python -m alexnet_np.cuda.gemm`` (on a GPU it then times them on 4096^3, beside cuBLAS):

- v1 ``naive``: one thread per element of C, a plain dot product over K from global memory.
  Grid (ceil(N/16), ceil(M/16)) of 16x16 blocks; thread (x, y) owns C[row = y, col = x].
- v2 ``tiled``: shared-memory tiles with register blocking. A block of 16x16 threads owns a
  64x64 tile of C; each thread accumulates a 4x4 micro-tile in registers, at rows
  ``ty + 16 i`` and columns ``tx + 16 j`` (i, j < 4), so that a warp reads consecutive
  addresses from shared memory and writes consecutive addresses of C. K is walked in steps of
  8: load a 64x8 tile of op(A) and an 8x64 tile of op(B) into shared memory (2 elements per
  thread each, zero outside the matrix), sync, accumulate 8 rank-1 updates, sync.
  Each element loaded from global memory is reused 64 times from shared memory, and each
  shared-memory read 4 times from registers.
- v3 ``tiled128`` (``gemm3.py``): 128x128 tiles, 8x8 per thread, one kernel per transpose
  case, register-staged double-buffered loads, split-K and groups in grid z.

When ``beta == 0`` C is never read, so an uninitialised (or NaN-poisoned) C is fine.
"""

import numpy as np
from numba import cuda, float32

from .common import ceil_div, max_rel_err, report, simulator, time_call, to_device, torch_fp32
from .gemm3 import gemm_v3

TILE = 16  # naive: threads per block side
BM, BN, BK = 64, 64, 8  # tiled: C tile (BM x BN), K step
TM, TN = 4, 4  # tiled: per-thread micro-tile; BM = 16 * TM, BN = 16 * TN
THREADS = 256  # tiled: 16 x 16 threads


@cuda.jit(device=True, inline="always")
def _at(X, r, c, trans):
    """op(X)[r, c]: X[r, c], or X[c, r] when ``trans``."""
    if trans:
        return X[c, r]
    return X[r, c]


@cuda.jit
def gemm_naive_kernel(C, A, B, M, N, K, trans_a, trans_b, alpha, beta):
    """v1: C[row, col] = alpha * sum_k op(A)[row, k] op(B)[k, col] + beta * C[row, col]."""
    col, row = cuda.grid(2)
    if row < M and col < N:
        acc = float32(0.0)
        for k in range(K):
            acc += _at(A, row, k, trans_a) * _at(B, k, col, trans_b)
        if beta != float32(0.0):
            C[row, col] = alpha * acc + beta * C[row, col]
        else:
            C[row, col] = alpha * acc


@cuda.jit
def gemm_tiled_kernel(C, A, B, M, N, K, trans_a, trans_b, alpha, beta):
    """v2: a 64x64 tile of C per block of 16x16 threads, 4x4 outputs per thread."""
    As = cuda.shared.array((BK, BM), dtype=float32)  # As[k, m] = op(A)[row0 + m, k0 + k]
    Bs = cuda.shared.array((BK, BN), dtype=float32)  # Bs[k, n] = op(B)[k0 + k, col0 + n]
    acc = cuda.local.array((TM, TN), dtype=float32)
    a_reg = cuda.local.array(TM, dtype=float32)
    b_reg = cuda.local.array(TN, dtype=float32)
    tx = cuda.threadIdx.x
    ty = cuda.threadIdx.y
    tid = ty * 16 + tx
    row0 = cuda.blockIdx.y * BM
    col0 = cuda.blockIdx.x * BN
    for i in range(TM):
        for j in range(TN):
            acc[i, j] = float32(0.0)

    for k0 in range(0, K, BK):
        # --- load tile: 512 elements of op(A) and 512 of op(B), two each per thread.
        # The index order follows the memory order of the stored matrix (coalesced reads).
        for rep in range(2):
            e = tid + rep * THREADS
            if trans_a:  # A stored (K, M): consecutive threads take consecutive m
                m = e % BM
                kk = e // BM
            else:  # A stored (M, K): consecutive threads take consecutive k
                m = e // BK
                kk = e % BK
            r = row0 + m
            c = k0 + kk
            if r < M and c < K:
                As[kk, m] = _at(A, r, c, trans_a)
            else:
                As[kk, m] = float32(0.0)
            if trans_b:  # B stored (N, K)
                n = e // BK
                kk = e % BK
            else:  # B stored (K, N)
                n = e % BN
                kk = e // BN
            r = k0 + kk
            c = col0 + n
            if r < K and c < N:
                Bs[kk, n] = _at(B, r, c, trans_b)
            else:
                Bs[kk, n] = float32(0.0)
        # --- sync: the whole tile is in shared memory
        cuda.syncthreads()
        # --- accumulate: BK rank-1 updates of the 4x4 micro-tile
        for kk in range(BK):
            for i in range(TM):
                a_reg[i] = As[kk, ty + 16 * i]
            for j in range(TN):
                b_reg[j] = Bs[kk, tx + 16 * j]
            for i in range(TM):
                for j in range(TN):
                    acc[i, j] += a_reg[i] * b_reg[j]
        # --- sync: nobody overwrites the tile while others still read it
        cuda.syncthreads()

    # --- write the micro-tile (the only bounds check on C; no sync after this point)
    for i in range(TM):
        r = row0 + ty + 16 * i
        for j in range(TN):
            c = col0 + tx + 16 * j
            if r < M and c < N:
                if beta != float32(0.0):
                    C[r, c] = alpha * acc[i, j] + beta * C[r, c]
                else:
                    C[r, c] = alpha * acc[i, j]


def gemm_shape(A, B, trans_a=False, trans_b=False, groups=1):
    """(M, N, K) of one group's ``op(A) @ op(B)``; raises ValueError when the sizes differ."""
    if A.shape[0] % groups or B.shape[0] % groups:
        raise ValueError(f"gemm: {groups} groups do not split A {A.shape} and B {B.shape}")
    a_rows, b_rows = A.shape[0] // groups, B.shape[0] // groups
    M, K = (A.shape[1], a_rows) if trans_a else (a_rows, A.shape[1])
    K2, N = (B.shape[1], b_rows) if trans_b else (b_rows, B.shape[1])
    if K != K2:
        raise ValueError(f"gemm: inner sizes differ: op(A) {(M, K)}, op(B) {(K2, N)}")
    return M, N, K


def gemm(C, A, B, trans_a=False, trans_b=False, alpha=1.0, beta=0.0, version="tiled128",
         groups=1, splits=None):
    """``C = alpha op(A) @ op(B) + beta C`` on device arrays (float32, 2-D, C-contiguous).

    With ``groups`` > 1 every stored matrix is cut into ``groups`` equal row blocks and block g
    of C is computed from block g of A and of B (the grouped convolutions). ``version``:
    ``naive`` (v1), ``tiled`` (v2) or ``tiled128`` (v3, ``gemm3.py``; ``splits`` forces its
    split-K factor).
    """
    M, N, K = gemm_shape(A, B, trans_a, trans_b, groups)
    if C.shape != (groups * M, N):
        raise ValueError(f"gemm: C has shape {C.shape}, expected {(groups * M, N)}")
    if version == "tiled128":
        return gemm_v3(C, A, B, M, N, K, trans_a, trans_b, alpha, beta, groups, splits)
    if version not in ("naive", "tiled"):
        raise ValueError(f"gemm: unknown version '{version}'; choose one of {VERSIONS}")
    a_rows, b_rows = A.shape[0] // groups, B.shape[0] // groups
    for g in range(groups):  # v1, v2: one launch per group, on row-block views
        Cg, Ag, Bg = C[g * M:(g + 1) * M], A[g * a_rows:(g + 1) * a_rows], B[g * b_rows:
                                                                              (g + 1) * b_rows]
        args = (Cg, Ag, Bg, M, N, K, int(trans_a), int(trans_b), float32(alpha), float32(beta))
        if version == "naive":
            gemm_naive_kernel[(ceil_div(N, TILE), ceil_div(M, TILE)), (TILE, TILE)](*args)
        else:
            gemm_tiled_kernel[(ceil_div(N, BN), ceil_div(M, BM)), (16, 16)](*args)
    return C


VERSIONS = ("naive", "tiled", "tiled128")


def _torch_gflops(M, N, K, repeat):
    """cuBLAS float32 (TF32 off) on the same card, through PyTorch if it is there, else None."""
    torch = torch_fp32()
    if torch is None:
        return None
    a = torch.randn(M, K, device="cuda")
    b = torch.randn(K, N, device="cuda")
    a @ b
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(repeat):
        a @ b
    end.record()
    torch.cuda.synchronize()
    return 2 * M * N * K / (start.elapsed_time(end) / repeat) / 1e6


def _main():
    rng = np.random.default_rng(0)
    if simulator():
        M, N, K, repeat = 37, 70, 19, 1
    else:
        M, N, K, repeat = 4096, 4096, 4096, 5
    print(f"gemm self-check, M={M} N={N} K={K}")
    for ta in (False, True):
        for tb in (False, True):
            a = rng.standard_normal((K, M) if ta else (M, K)).astype(np.float32)
            b = rng.standard_normal((N, K) if tb else (K, N)).astype(np.float32)
            c0 = rng.standard_normal((M, N)).astype(np.float32)
            ref = 0.5 * ((a.T if ta else a) @ (b.T if tb else b)) + 2.0 * c0
            dA, dB = to_device(a), to_device(b)
            for v in VERSIONS:
                dC = to_device(c0)
                gemm(dC, dA, dB, ta, tb, alpha=0.5, beta=2.0, version=v)
                report(f"gemm {v} ta={int(ta)} tb={int(tb)}", max_rel_err(dC.copy_to_host(),
                                                                          ref), 1e-4)
    # v3's split-K and groups: 2 groups, K cut in 3 chunks (the partials added in order)
    g, m, n, k = 2, 9, 13, 40
    a = rng.standard_normal((g * k, m)).astype(np.float32)  # trans_a: each group's A^T
    b = rng.standard_normal((g * k, n)).astype(np.float32)
    ref = np.concatenate([a[i * k:(i + 1) * k].T @ b[i * k:(i + 1) * k] for i in range(g)])
    dC = to_device(np.full((g * m, n), np.nan))
    gemm(dC, to_device(a), to_device(b), trans_a=True, version="tiled128", groups=g, splits=3)
    report("gemm tiled128 groups=2 splits=3", max_rel_err(dC.copy_to_host(), ref), 1e-4)

    dA = to_device(rng.standard_normal((M, K)))
    dB = to_device(rng.standard_normal((K, N)))
    dC = to_device(np.zeros((M, N)))
    for v in VERSIONS:
        ms = time_call(lambda v=v: gemm(dC, dA, dB, version=v), repeat=repeat)
        print(f"gemm {v:<9} {ms:10.3f} ms  {2 * M * N * K / ms / 1e6:8.1f} GFLOP/s")
    if not simulator():
        ref = _torch_gflops(M, N, K, repeat)
        if ref is not None:
            print(f"gemm cuBLAS (PyTorch, float32, TF32 off) {ref:8.1f} GFLOP/s")


if __name__ == "__main__":
    _main()
