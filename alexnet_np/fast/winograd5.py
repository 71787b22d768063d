"""5x5 stride-1 convolution by Winograd's minimal filtering, F(3x3, 5x5) (Lavin & Gray 2016).

The sibling of ``winograd.py`` (F(2x2, 3x3), conv3-5) for conv2 of the paper (sec. 3.5: 5x5
kernels, stride 1, padding 2, 27x27 output), the largest layer of a training step. Read that
module first: the scheme is the same, only the tile and the matrices are larger. Each 3x3
output TILE needs a 7x7 input patch d; in one dimension, three outputs of a 5-tap filter g
from seven inputs::

    y_i = sum_k d_(i+k) g_k  (i = 0, 1, 2)        y = A^T [(G g) * (B^T d)]   (* elementwise)

takes 7 multiplications instead of 15. Nested in both dimensions a tile costs 49 instead of
225, and over channels the 49 elementwise products become 49 matrix products::

    U[k] (F, C) = (G g G^T)[k]        V[k] (C, T) = (B^T d B)[k]        M[k] = U[k] @ V[k]
    out tile (3, 3) = A^T M[., f, t] A + b[f]                           (k = 7*row + col)

For conv2's 27x27 output that is 9x9 tiles exactly: 49 * 81 products per filter and channel
instead of 25 * 729, 0.22 of the multiply-adds of im2col + GEMM (measured per 8 images and
one group on one core: 9.0 ms against 17.9 ms for im2col + GEMM).

The matrices come from the Cook-Toom construction (Lavin & Gray, sec. 4; the "wincnn"
recipe) with the six points p = 0, 1, -1, 2, -2, 1/2 and the point at infinity. Writing
N_j = prod_(l != j) (p_j - p_l) and M_j(x) = prod_(l != j) (x - p_l)::

    A^T[i, j] = p_j^i            (the last column: 1 in the last row, 0 above)
    G[j, k]   = p_j^k / N_j      (the last row: (0, 0, 0, 0, 1))
    B^T[j]    = the coefficients of M_j(x), lowest power first;
                the last row: those of prod_l (x - p_l)

(:func:`cook_toom` builds them; the tests check the 1-D identity above on random data and
on a hand-computed case). Larger tiles round worse than small ones: with these points the
float32 result of a conv2-sized layer is within ~4e-6 of the exact one (relative to the
largest output; im2col + GEMM: ~6e-7), and float64 agrees with the direct sum to ~1e-14.

The forward pass uses it, and the backward pass for the input gradient: a convolution of
dout with the turned filters (``conv2d.py``, point 6), as a pass of its own after the
weight-gradient jobs: conv2's backward pass 141 -> 119 ms (paper, batch 32, two workers).
Run inside those jobs, it had not paid (docs/performance.md, rounds 5 and 6).

The weight gradient by Winograd along the rows only. The 2-D scheme read backwards (as
``winograd.py`` does for 3x3 kernels) would be fast (8 images on one core: 38.7 -> 25.5 ms)
but rounds too coarsely: float32 ~2e-5 of dW's largest entry on conv2's shape against 4e-7
for im2col, for every choice of points tried. In one dimension the same algorithm rounds
several times better (2.7e-6 at batch 32; im2col: 3.9e-7). So the rows are cut into 3-row
tiles and the columns are summed directly::

    dW[u, v] = sum_a G[a, u] W^[a, v],   W^[a, v] = sum over t, x of E[a, t, x] V[a, t, x + v]

with ``E[a] = sum_i A[a, i] dout[3ti + i]`` (7 rows from each tile's 3 rows of dout) and
``V[a] = sum_q B^T[a, q] x[3ti + q - p]`` (7 rows from the tile's 7 input rows). With each
row of E padded to the width of the input row (OW + 4, zeros at the end), the shift by v
is an offset into V, so each W^[a, v] is one product ``(Fg, T) @ (T, Cg)`` on views, no
copies: 35 products per group instead of im2col's one with 25 times the rows. Per filter,
channel and row tile 7 * 5 * (OW + 4) multiply-adds instead of 3 * 25 * OW: 0.54 of im2col's
for conv2. Its weight gradient, batch 32 on two workers: 100 -> 56 ms; its backward pass in
a training step 128 -> 106 ms (docs/performance.md, round 7).

Shapes: xc (C, N, H, W) channel-major view; out (F, N, OH, OW), OH = H + 2p - 4.
"""

import numpy as np
from numba import njit

from .threads import chunked, run_jobs, split

TILE_BYTES = 8 << 20  # one chunk's V at most (one image at least)
GRAD_TILE_BYTES = 32 << 20  # one chunk's V and E in the weight gradient (one image at least)
POINTS = (0.0, 1.0, -1.0, 2.0, -2.0, 0.5)  # and infinity
M_OUT, R = 3, 5  # output tile, filter size
N_IN = M_OUT + R - 1  # 7: input tile
POSITIONS = (N_IN, R)  # of the weight gradient's parts: 7 row positions x 5 column taps


def cook_toom(m, r, points):
    """``(A^T (m, n), G (n, r), B^T (n, n))`` for F(m, r) on ``points`` and infinity,
    n = m + r - 1 = len(points) + 1 (float64)."""
    n = m + r - 1
    if len(points) != n - 1:
        raise ValueError(f"F({m}, {r}) needs {n - 1} finite points, got {len(points)}")
    at, g, bt = np.zeros((m, n)), np.zeros((n, r)), np.zeros((n, n))
    for j, p in enumerate(points):
        others = [q for i, q in enumerate(points) if i != j]
        at[:, j] = [p ** i for i in range(m)]
        g[j] = [p ** k / np.prod([p - q for q in others]) for k in range(r)]
        bt[j, :n - 1] = np.poly(others)[::-1]  # M_j(x), lowest power first
    at[m - 1, n - 1] = 1.0
    g[n - 1, r - 1] = 1.0
    bt[n - 1] = np.poly(points)[::-1]
    return at, g, bt


AT, G, BT = cook_toom(M_OUT, R, POINTS)


def transform_filters(W):
    """``U (49, F, Cg)``: ``G g G^T`` of every 5x5 filter g = W[f, c], flattened row-major
    over the 7x7 positions k = 7*row + col. Two matrix products per range of filters, on the
    workers of ``threads.py`` (BLAS on one thread: OpenBLAS's own pool, once woken, would
    keep spinning on the cores the convolution needs next)."""
    f, cg, _, _ = W.shape
    U = np.empty((N_IN * N_IN, f, cg), dtype=W.dtype)
    g = G.astype(W.dtype)

    def part(r):
        f0, f1 = r
        w = W[f0:f1].transpose(2, 0, 1, 3).reshape(R, (f1 - f0) * cg * R)  # (5, Fb*Cg*5)
        rows = (g @ w).reshape(N_IN, (f1 - f0) * cg, R)  # (7, Fb*Cg, 5): G g
        u = rows @ g.T  # (7, Fb*Cg, 7): (G g) G^T
        U[:, f0:f1] = u.transpose(0, 2, 1).reshape(N_IN * N_IN, f1 - f0, cg)

    run_jobs(part, split(f, 4))
    return U


@njit(nogil=True, cache=True, error_model="numpy")
def input_transform(v, xc, n0, n1, pad, th, tw, bt):
    """``v[k, c, t] = (B^T d B)[k]`` for the 7x7 patch d of tile t of image n0 <= n < n1,
    channel c (0 outside the input). v (49, C, T), T = (n1 - n0)*th*tw; xc (C, N, H, W);
    bt (7, 7).

    Channel by channel: the patches are first gathered with the tile index innermost,
    ``d[row, col, t]``, so that both halves of the transform (B^T on the rows, then B on
    the columns) are loops over T contiguous numbers that LLVM vectorises. Each row of a
    half is one sum of seven terms per tile, kept in a register (N_IN is a constant, so the
    inner loop is unrolled): one pass over the output row instead of one per nonzero
    coefficient, 15% less time for conv2's forward pass (one core, 16 images: 39.1 -> 33.2
    ms), the same bits for finite inputs (the terms are added in the same order; the zero
    ones add 0)."""
    c, _, h, w = xc.shape
    t_all = (n1 - n0) * th * tw
    d = np.empty((N_IN, N_IN, t_all), dtype=v.dtype)
    s = np.empty((N_IN, N_IN, t_all), dtype=v.dtype)
    zero = v.dtype.type(0)
    for ci in range(c):
        for ni in range(n0, n1):
            plane = xc[ci, ni]  # (H, W)
            for ti in range(th):
                for tj in range(tw):
                    t = ((ni - n0) * th + ti) * tw + tj
                    for u in range(N_IN):
                        y = M_OUT * ti + u - pad
                        inside_y = y >= 0 and y < h
                        for q in range(N_IN):
                            x = M_OUT * tj + q - pad
                            d[u, q, t] = plane[y, x] if inside_y and x >= 0 and x < w else 0
        for a in range(N_IN):  # s[a, q, :] = sum_u B^T[a, u] d[u, q, :]
            for q in range(N_IN):
                row = s[a, q]
                for t in range(t_all):
                    acc = zero
                    for u in range(N_IN):
                        acc += bt[a, u] * d[u, q, t]
                    row[t] = acc
        for a in range(N_IN):  # v[7a + e, c, :] = sum_q s[a, q, :] B[q, e] (B = (B^T)^T)
            for e in range(N_IN):
                row = v[N_IN * a + e, ci]
                for t in range(t_all):
                    acc = zero
                    for q in range(N_IN):
                        acc += bt[e, q] * s[a, q, t]
                    row[t] = acc


@njit(nogil=True, cache=True, error_model="numpy")
def output_transform(out, m, b, f0, n0, n1, th, tw, at):
    """``out[f0 + f, n, 3ti:3ti+3, 3tj:3tj+3] = A^T M[., f, t] A + b[f0 + f]`` for images
    n0 <= n < n1 (tiles past the edge cropped). out (F, N, OH, OW); m (49, Fg, T); at (3, 7).
    Filter by filter, both halves vectorised over the tiles as in :func:`input_transform`."""
    _, _, oh, ow = out.shape
    t_all = (n1 - n0) * th * tw
    s = np.empty((M_OUT, N_IN, t_all), dtype=m.dtype)
    y = np.empty((M_OUT, M_OUT, t_all), dtype=m.dtype)
    zero = m.dtype.type(0)
    for fi in range(m.shape[1]):
        for i in range(M_OUT):  # s[i, e, :] = sum_a A^T[i, a] M[7a + e, f, :]
            for e in range(N_IN):
                row = s[i, e]
                for t in range(t_all):
                    acc = zero
                    for a in range(N_IN):
                        acc += at[i, a] * m[N_IN * a + e, fi, t]
                    row[t] = acc
        bias = b[f0 + fi]
        for i in range(M_OUT):  # y[i, j, :] = sum_e s[i, e, :] A[e, j] + b
            for j in range(M_OUT):
                row = y[i, j]
                for t in range(t_all):
                    acc = bias
                    for e in range(N_IN):
                        acc += at[j, e] * s[i, e, t]
                    row[t] = acc
        plane_out = out[f0 + fi]  # (N, OH, OW)
        for ni in range(n0, n1):
            for ti in range(th):
                for tj in range(tw):
                    t = ((ni - n0) * th + ti) * tw + tj
                    for i in range(M_OUT):
                        yy = M_OUT * ti + i
                        if yy >= oh:
                            break
                        for j in range(M_OUT):
                            xx = M_OUT * tj + j
                            if xx >= ow:
                                break
                            plane_out[ni, yy, xx] = y[i, j, t]


def chunks(images, channels, tiles_per_image, itemsize):
    """The images (a, z) cut into equal chunks whose V (49, C, T) fits in TILE_BYTES."""
    per_image = N_IN * N_IN * channels * tiles_per_image * itemsize
    return chunked(images[0], images[1], max(1, TILE_BYTES // per_image))


def winograd_conv(out, xc, U, b, pad, groups, images, buffers):
    """``out[:, a:z] = conv(x, W) + b`` for the images ``images = (a, z)``, W 5x5, stride 1.

    out (F, N, OH, OW) channel-major, written; xc (C, N, H, W); U (49, F, Cg) from
    :func:`transform_filters`; b (F,); ``buffers(i, shape)`` gives scratch array i of that
    shape (the caller's per-thread buffers: 0 for V, 1 for M).
    """
    c = xc.shape[0]
    f, oh, ow = out.shape[0], out.shape[2], out.shape[3]
    fg, cg = f // groups, c // groups
    th, tw = -(-oh // M_OUT), -(-ow // M_OUT)
    at, bt = AT.astype(out.dtype), BT.astype(out.dtype)
    for a, z in chunks(images, c, th * tw, xc.itemsize):
        t = (z - a) * th * tw
        v = buffers(0, (N_IN * N_IN, c, t))  # (49, C, T)
        m = buffers(1, (N_IN * N_IN, fg, t))  # (49, Fg, T): one group at a time
        input_transform(v, xc, a, z, pad, th, tw, bt)
        for g in range(groups):
            np.matmul(U[:, g * fg:(g + 1) * fg], v[:, g * cg:(g + 1) * cg],
                      out=m)  # 49 products (Fg, Cg) @ (Cg, T)
            output_transform(out, m, b, g * fg, a, z, th, tw, at)


@njit(nogil=True, cache=True, error_model="numpy")
def rows_dout_transform(e, dc, n0, n1, th, wr, at):
    """``e[a, f, t] = sum_i A[a, i] dout[f, n, 3ti + i, x]`` (0 below the last row) for
    t = ((n - n0)*th + ti)*wr + x, x < OW; 0 for OW <= x < wr. e (7, F, T); dc (F, N, OH, OW);
    at (3, 7), so A[a, i] = at[i, a]."""
    f, _, oh, ow = dc.shape
    zero = e.dtype.type(0)
    for fi in range(f):
        for ni in range(n0, n1):
            plane = dc[fi, ni]  # (OH, OW)
            for ti in range(th):
                rows = min(M_OUT, oh - M_OUT * ti)  # dout rows under this tile
                t0 = ((ni - n0) * th + ti) * wr
                for a in range(N_IN):
                    row = e[a, fi, t0:t0 + wr]
                    for x in range(ow):
                        row[x] = at[0, a] * plane[M_OUT * ti, x]
                    for i in range(1, rows):
                        coef, src = at[i, a], plane[M_OUT * ti + i]
                        for x in range(ow):
                            row[x] += coef * src[x]
                    for x in range(ow, wr):
                        row[x] = zero


@njit(nogil=True, cache=True, error_model="numpy")
def rows_input_transform(v, xc, n0, n1, pad, th, wr, bt):
    """``v[a, t, c] = sum_q B^T[a, q] x[c, n, 3ti + q - p, x' - p]`` (0 outside the input)
    for t = ((n - n0)*th + ti)*wr + x', x' < wr; the last R - 1 rows of v are 0 (the shifted
    views of the products reach into them, against zeros of e). v (7, T + R - 1, C), C
    innermost so that a shift is an offset; xc (C, N, H, W); bt (7, 7)."""
    c, _, h, w = xc.shape
    d = np.empty((N_IN, wr, c), dtype=v.dtype)  # a tile's 7 input rows, channels innermost
    zero = v.dtype.type(0)
    for ni in range(n0, n1):
        for ti in range(th):
            for q in range(N_IN):
                y = M_OUT * ti + q - pad
                if y < 0 or y >= h:
                    d[q] = zero
                    continue
                for ci in range(c):
                    src = xc[ci, ni, y]  # (W,)
                    for xq in range(wr):
                        xx = xq - pad
                        d[q, xq, ci] = src[xx] if xx >= 0 and xx < w else zero
            t0 = ((ni - n0) * th + ti) * wr
            for a in range(N_IN):
                out = v[a, t0:t0 + wr]  # (wr, C)
                for xq in range(wr):
                    row = out[xq]
                    for ci in range(c):
                        acc = zero
                        for q in range(N_IN):
                            acc += bt[a, q] * d[q, xq, ci]
                        row[ci] = acc
    t_end = (n1 - n0) * th * wr
    v[:, t_end:] = zero


def weight_gradient(part, xc, dc, pad, groups, images, buffers):
    """``part[g, a, v] = sum over t of E[a, f, t] V[a, t + v, c]`` (f, c in group g):
    (groups, 7, 5, Fg, Cg), written; this job's share of the weight gradient before
    :func:`filter_gradient`.

    xc (C, N, H, W) the layer's input; dc (F, N, OH, OW) dout, both channel-major;
    ``buffers(i, shape)``: the caller's per-thread scratch arrays (0: V, 1: E, 2: a later
    chunk's products). A job's images are one chunk up to GRAD_TILE_BYTES of V and E."""
    c = xc.shape[0]
    f, _, oh, ow = dc.shape
    fg, cg = f // groups, c // groups
    th, wr = -(-oh // M_OUT), ow + R - 1  # row tiles; row length: output columns + reach
    at, bt = AT.astype(xc.dtype), BT.astype(xc.dtype)
    per_image = N_IN * (c + f) * th * wr * xc.itemsize
    for i, (a, z) in enumerate(chunked(images[0], images[1],
                                       max(1, GRAD_TILE_BYTES // per_image))):
        t = (z - a) * th * wr
        v = buffers(0, (N_IN, t + R - 1, c))  # (7, T + 4, C)
        e = buffers(1, (N_IN, f, t))  # (7, F, T)
        rows_input_transform(v, xc, a, z, pad, th, wr, bt)
        rows_dout_transform(e, dc, a, z, th, wr, at)
        for g in range(groups):
            for k in range(N_IN):
                e_g = e[k, g * fg:(g + 1) * fg]  # (Fg, T)
                for s in range(R):
                    prod = part[g, k, s] if i == 0 else buffers(2, (fg, cg))
                    np.matmul(e_g, v[k, s:s + t, g * cg:(g + 1) * cg], out=prod)  # (T, Cg)
                    if i > 0:
                        part[g, k, s] += prod


def filter_gradient(parts):
    """``dW (F, Cg, 5, 5)``, ``dW[f, c, u, v] = sum_a G[a, u] S[a, v, f, c]``, S the sum of
    the jobs' :func:`weight_gradient` parts (jobs, groups, 7, 5, Fg, Cg), added in job
    order. On the workers, by ranges of filters: a product on OpenBLAS's own threads would
    leave them spinning against the next jobs (``threads.py``)."""
    _, groups, _, _, fg, cg = parts.shape
    dW = np.empty((groups * fg, cg, R, R), dtype=parts.dtype)
    g_t = G.T.astype(parts.dtype)  # (5, 7)

    def job(r):
        g, f0, f1 = r
        total = parts[0, g, :, :, f0:f1].copy()  # (7, 5, Fb, Cg)
        for part in parts[1:]:
            total += part[g, :, :, f0:f1]
        s = np.tensordot(g_t, total, axes=(1, 0))  # (5 [u], 5 [v], Fb, Cg)
        dW[g * fg + f0:g * fg + f1] = s.transpose(2, 3, 0, 1)

    run_jobs(job, [(g, a, z) for g in range(groups) for a, z in split(fg, 4 // groups or 1)])
    return dW
