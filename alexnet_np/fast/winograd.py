"""3x3 stride-1 convolution by Winograd's minimal filtering, F(2x2, 3x3) (Lavin & Gray 2016).

The same numbers as ``layers/conv2d.py`` (up to float rounding) with fewer multiplications:
conv3, conv4 and conv5 of the paper (sec. 3.5) are 3x3, stride 1, and take more than a third
of a training step. The convolution is cut into 2x2 output TILES; each needs a 4x4 patch of
the input d (the tile and its 1-pixel border). In one dimension, two outputs of a 3-tap
filter g from four inputs d::

    y0 = d0 g0 + d1 g1 + d2 g2          y = A^T [(G g) * (B^T d)]     (* elementwise)
    y1 = d1 g0 + d2 g1 + d3 g2

        B^T = [[1, 0, -1, 0],    G = [[1,    0,   0  ],    A^T = [[1, 1,  1,  0],
               [0, 1,  1, 0],         [1/2,  1/2, 1/2],           [0, 1, -1, -1]]
               [0, -1, 1, 0],         [1/2, -1/2, 1/2],
               [0, 1,  0, -1]]        [0,    0,   1  ]]

uses 4 multiplications instead of 6 (check it by hand: y0 = m0 + m1 + m2 with
m0 = (d0 - d2) g0, m1 = (d1 + d2)(g0 + g1 + g2)/2, m2 = (d2 - d1)(g0 - g1 + g2)/2). Nesting
it in both dimensions, a 2x2 tile costs 16 multiplications instead of 36::

    Y (2x2) = A^T [ (G g G^T) * (B^T d B) ] A

Over channels the elementwise products become 16 matrix products, one per position
(xi, nu) of the 4x4 transformed tile, which is where the time goes::

    U[k] (F, C) = (G g G^T)[k]            filters, transformed once per call
    V[k] (C, T) = (B^T d B)[k]            input, one column per tile (T tiles)
    M[k] (F, T) = U[k] @ V[k]             16 BLAS products (per group)
    out tile    = A^T M[., f, t] A        (plus the bias)

For a 13x13 output (conv3-5) that is 7x7 tiles (the last row and column of tiles is half
outside and cropped): 16 * 49 products per filter and channel instead of 9 * 169, 0.52 of
the multiply-adds of im2col + GEMM. The transforms only add and subtract (and halve, in G),
so float32 results differ from the direct sum by a few units of rounding.

The forward pass (training and inference) uses it (paper preset, batch 32, 2 cores: conv3-5
forward 34 -> 25, 31 -> 25, 24 -> 20 ms), and so does the backward pass: for the input
gradient, as a convolution of dout with the turned filters (``fast/conv2d.py``, point 6: a
few ms per layer), and for the weight gradient by the same tiles read backwards.

The weight gradient. Write the forward tile as a sum over its 16 positions k = (xi, nu):
``Y[i, j] = sum_k A^T[i, xi] A^T[j, nu] U[k] V[k]``, so the loss's share from one tile,
``sum_ij dY[i, j] Y[i, j]``, is ``sum_k E[k] U[k] V[k]`` with ``E = A dY A^T`` (4x4, dY the
tile's 2x2 piece of dout). As U = G g G^T is linear in g, its gradient is::

    dL/dg (3x3) = G^T [ E * V ] G           (summed over the tiles, * elementwise)

The input patches V are the forward pass's own transform; dout is transformed by A (only
adds and subtracts); the sum over every tile of every image becomes 16 products
``(F, T) @ (T, C)`` (one per position, per group) with the tiles as the inner dimension; and
G^T [.] G is applied once per filter and channel at the end (:func:`filter_gradient`): 16*49
products per filter, channel and image instead of im2col's 9*169, and no im2col matrix.
conv3-5's backward pass alone, paper preset at batch 32 on two workers: 78 -> 67, 72 -> 62,
53 -> 45 ms (docs/performance.md, round 7). float32 rounds to ~7e-7 of dW's largest entry
on conv3's shape (im2col: ~5e-7). This is the weight gradient's own minimal algorithm,
F(3x3, 2x2), with the forward's matrices in other places (the "transposition principle";
Lavin & Gray 2016 use F(3x3, 2x2) for it too).

Shapes: xc (C, N, H, W) channel-major view; out (F, N, OH, OW), OH = H + 2p - 2.
"""

import numpy as np
from numba import njit

from .threads import chunked, run_jobs, split

TILE_BYTES = 8 << 20  # one chunk's V at most (one image at least)
GRAD_TILE_BYTES = 32 << 20  # one chunk's V and E in the weight gradient (one image at least)
POSITIONS = (16,)  # of the weight gradient's parts: a transformed tile, 4x4


def transform_filters(W):
    """``U (16, F, Cg)``: ``G g G^T`` of every 3x3 filter g = W[f, c], flattened row-major
    over the 4x4 positions k = 4*xi + nu."""
    f, cg, _, _ = W.shape
    U = np.empty((16, f, cg), dtype=W.dtype)
    run_jobs(lambda r: filter_transform(U, W, r[0], r[1]), split(f, 4))
    return U


@njit(nogil=True, cache=True, error_model="numpy")
def filter_transform(U, W, f0, f1):
    """``U[:, f, c] = G W[f, c] G^T`` (flattened) for f0 <= f < f1; U (16, F, Cg),
    W (F, Cg, 3, 3)."""
    half = W.dtype.type(0.5)
    r = np.empty((4, 3), dtype=W.dtype)
    for fi in range(f0, f1):
        for ci in range(W.shape[1]):
            g = W[fi, ci]  # (3, 3)
            for j in range(3):  # r = G g: rows
                r[0, j] = g[0, j]
                r[1, j] = (g[0, j] + g[1, j] + g[2, j]) * half
                r[2, j] = (g[0, j] - g[1, j] + g[2, j]) * half
                r[3, j] = g[2, j]
            for a in range(4):  # (G g) G^T: columns
                U[4 * a + 0, fi, ci] = r[a, 0]
                U[4 * a + 1, fi, ci] = (r[a, 0] + r[a, 1] + r[a, 2]) * half
                U[4 * a + 2, fi, ci] = (r[a, 0] - r[a, 1] + r[a, 2]) * half
                U[4 * a + 3, fi, ci] = r[a, 2]


@njit(nogil=True, cache=True, error_model="numpy")
def input_transform(v, xc, n0, n1, pad, th, tw):
    """``v[k, c, t] = (B^T d B)[k]`` for the 4x4 patch d of tile t of image n0 <= n < n1,
    channel c (0 outside the input). v (16, C, T), T = (n1 - n0)*th*tw; xc (C, N, H, W).

    One row of tiles at a time: first B^T on the four input rows it covers, whole rows at
    once (r, the rows padded with zeros), then B on each tile's four columns of r."""
    c, _, h, w = xc.shape
    wp = 2 * tw + 2  # padded row: input columns -pad .. 2*tw + 1 - pad
    d = np.zeros((4, wp), dtype=v.dtype)
    r = np.empty((4, wp), dtype=v.dtype)
    for ci in range(c):
        for ni in range(n0, n1):
            plane = xc[ci, ni]  # (H, W)
            for ti in range(th):
                y0 = 2 * ti - pad
                for a in range(4):  # d: the tile row's four input rows, zero-padded
                    y = y0 + a
                    if y < 0 or y >= h:
                        d[a, :] = 0
                        continue
                    for q in range(wp):
                        xq = q - pad
                        d[a, q] = plane[y, xq] if xq >= 0 and xq < w else 0
                for q in range(wp):  # r = B^T d
                    r[0, q] = d[0, q] - d[2, q]
                    r[1, q] = d[1, q] + d[2, q]
                    r[2, q] = d[2, q] - d[1, q]
                    r[3, q] = d[1, q] - d[3, q]
                t0 = ((ni - n0) * th + ti) * tw
                for a in range(4):  # (B^T d) B, tile by tile: columns 2tj .. 2tj + 3
                    for tj in range(tw):
                        v[4 * a + 0, ci, t0 + tj] = r[a, 2 * tj] - r[a, 2 * tj + 2]
                    for tj in range(tw):
                        v[4 * a + 1, ci, t0 + tj] = r[a, 2 * tj + 1] + r[a, 2 * tj + 2]
                    for tj in range(tw):
                        v[4 * a + 2, ci, t0 + tj] = r[a, 2 * tj + 2] - r[a, 2 * tj + 1]
                    for tj in range(tw):
                        v[4 * a + 3, ci, t0 + tj] = r[a, 2 * tj + 1] - r[a, 2 * tj + 3]


@njit(nogil=True, cache=True, error_model="numpy")
def output_transform(out, m, b, n0, n1, th, tw):
    """``out[f, n, 2ti:2ti+2, 2tj:2tj+2] = A^T M[., f, t] A + b[f]`` for images
    n0 <= n < n1 (tiles past the edge cropped). out (F, N, OH, OW); m (16, F, T)."""
    f, _, oh, ow = out.shape
    s = np.empty((2, 4), dtype=m.dtype)
    for fi in range(f):
        bias = b[fi]
        for ni in range(n0, n1):
            for ti in range(th):
                for tj in range(tw):
                    t = ((ni - n0) * th + ti) * tw + tj
                    for col in range(4):  # s = A^T M: rows
                        m0, m1 = m[col, fi, t], m[4 + col, fi, t]
                        m2, m3 = m[8 + col, fi, t], m[12 + col, fi, t]
                        s[0, col] = m0 + m1 + m2
                        s[1, col] = m1 - m2 - m3
                    for a in range(2):  # (A^T M) A: columns
                        y = 2 * ti + a
                        if y >= oh:
                            break
                        out[fi, ni, y, 2 * tj] = s[a, 0] + s[a, 1] + s[a, 2] + bias
                        if 2 * tj + 1 < ow:
                            out[fi, ni, y, 2 * tj + 1] = s[a, 1] - s[a, 2] - s[a, 3] + bias


def chunks(images, channels, tiles_per_image, itemsize, budget=None):
    """The images (a, z) cut into equal chunks whose transformed tiles (16, channels, T) fit
    in ``budget`` bytes (default TILE_BYTES; one image at least)."""
    per_image = 16 * channels * tiles_per_image * itemsize
    return chunked(images[0], images[1], max(1, (budget or TILE_BYTES) // per_image))


def winograd_conv(out, xc, U, b, pad, groups, images, buffers):
    """``out[:, a:z] = conv(x, W) + b`` for the images ``images = (a, z)``, W 3x3, stride 1.

    out (F, N, OH, OW) channel-major, written; xc (C, N, H, W); U (16, F, Cg) from
    :func:`transform_filters`; b (F,); ``buffers(i, shape)`` gives scratch array i of that
    shape (the caller's per-thread buffers: 0 for V, 1 for M).
    """
    c, _, h, w = xc.shape
    f, oh, ow = out.shape[0], out.shape[2], out.shape[3]
    fg, cg = f // groups, c // groups
    th, tw = (oh + 1) // 2, (ow + 1) // 2
    for a, z in chunks(images, c, th * tw, xc.itemsize):
        t = (z - a) * th * tw
        v = buffers(0, (16, c, t))  # (16, C, T)
        m = buffers(1, (16, f, t))  # (16, F, T)
        input_transform(v, xc, a, z, pad, th, tw)
        for g in range(groups):
            np.matmul(U[:, g * fg:(g + 1) * fg], v[:, g * cg:(g + 1) * cg],
                      out=m[:, g * fg:(g + 1) * fg])  # 16 products (Fg, Cg) @ (Cg, T)
        output_transform(out, m, b, a, z, th, tw)


@njit(nogil=True, cache=True, error_model="numpy")
def dout_transform(e, dc, n0, n1, th, tw):
    """``e[k, f, t] = (A P A^T)[k]`` for the 2x2 piece P of dout under tile t of image
    n0 <= n < n1 (0 past the edge), filter f. e (16, F, T); dc (F, N, OH, OW).

    In one dimension a piece (p0, p1) becomes (p0, p0 + p1, p0 - p1, -p1) (A = (A^T)^T).
    One row of tiles at a time, as :func:`input_transform`: A on the two rows, then on each
    tile's two columns."""
    f, _, oh, ow = dc.shape
    wp = 2 * tw  # the tile row's columns, zero past the right edge
    p = np.zeros((2, wp), dtype=e.dtype)
    r = np.empty((4, wp), dtype=e.dtype)
    for fi in range(f):
        for ni in range(n0, n1):
            plane = dc[fi, ni]  # (OH, OW)
            for ti in range(th):
                for a in range(2):  # p: the tile row's two dout rows, zero-padded
                    y = 2 * ti + a
                    for q in range(wp):
                        p[a, q] = plane[y, q] if y < oh and q < ow else 0
                for q in range(wp):  # r = A p
                    r[0, q] = p[0, q]
                    r[1, q] = p[0, q] + p[1, q]
                    r[2, q] = p[0, q] - p[1, q]
                    r[3, q] = -p[1, q]
                t0 = ((ni - n0) * th + ti) * tw
                for a in range(4):  # (A p) A^T, tile by tile: columns 2tj, 2tj + 1
                    for tj in range(tw):
                        e[4 * a + 0, fi, t0 + tj] = r[a, 2 * tj]
                    for tj in range(tw):
                        e[4 * a + 1, fi, t0 + tj] = r[a, 2 * tj] + r[a, 2 * tj + 1]
                    for tj in range(tw):
                        e[4 * a + 2, fi, t0 + tj] = r[a, 2 * tj] - r[a, 2 * tj + 1]
                    for tj in range(tw):
                        e[4 * a + 3, fi, t0 + tj] = -r[a, 2 * tj + 1]


def weight_gradient(part, xc, dc, pad, groups, images, buffers):
    """``part[g, k] = sum over the tiles t of images (a, z) of E[k, f, t] V[k, c, t]`` (f, c
    in group g): (groups, 16, Fg, Cg), written; this job's share of the weight gradient
    before :func:`filter_gradient`.

    xc (C, N, H, W) the layer's input; dc (F, N, OH, OW) dout, both channel-major;
    ``buffers(i, shape)``: the caller's per-thread scratch arrays (0: V, 1: E, 2: a later
    chunk's products). A job's images are one chunk up to GRAD_TILE_BYTES of V and E: the
    longer the inner dimension of the 16 products, the faster they run."""
    c = xc.shape[0]
    f, _, oh, ow = dc.shape
    fg, cg = f // groups, c // groups
    th, tw = (oh + 1) // 2, (ow + 1) // 2
    for i, (a, z) in enumerate(chunks(images, c + f, th * tw, xc.itemsize, GRAD_TILE_BYTES)):
        t = (z - a) * th * tw
        v = buffers(0, (16, c, t))  # (16, C, T)
        e = buffers(1, (16, f, t))  # (16, F, T)
        input_transform(v, xc, a, z, pad, th, tw)
        dout_transform(e, dc, a, z, th, tw)
        for g in range(groups):
            prod = part[g] if i == 0 else buffers(2, (16, fg, cg))
            np.matmul(e[:, g * fg:(g + 1) * fg], v[:, g * cg:(g + 1) * cg].transpose(0, 2, 1),
                      out=prod)  # 16 products (Fg, T) @ (T, Cg)
            if i > 0:
                part[g] += prod


def filter_gradient(parts):
    """``dW (F, Cg, 3, 3) = G^T S G``, S the sum of the jobs' :func:`weight_gradient` parts
    (jobs, groups, 16, Fg, Cg), added in job order."""
    _, groups, _, fg, cg = parts.shape
    dW = np.empty((groups * fg, cg, 3, 3), dtype=parts.dtype)
    run_jobs(lambda r: filter_gradient_rows(dW, parts, r[0], r[1]), split(groups * fg, 4))
    return dW


@njit(nogil=True, cache=True, error_model="numpy")
def filter_gradient_rows(dW, parts, f0, f1):
    """``dW[f, c] = G^T S G`` for f0 <= f < f1, S (4x4) the sum over the jobs j (in order)
    of ``parts[j, g, :, f - g*Fg, c]``; dW (F, Cg, 3, 3), parts (jobs, groups, 16, Fg, Cg).
    On each column of S, G^T (s0, s1, s2, s3) = (s0 + (s1 + s2)/2, (s1 - s2)/2,
    (s1 + s2)/2 + s3); then the same on the rows of the result."""
    fg = parts.shape[3]
    half = parts.dtype.type(0.5)
    s = np.empty(16, dtype=parts.dtype)
    r = np.empty((3, 4), dtype=parts.dtype)
    for fi in range(f0, f1):
        g, fl = fi // fg, fi % fg
        for ci in range(parts.shape[4]):
            for k in range(16):
                s[k] = parts[0, g, k, fl, ci]
            for j in range(1, parts.shape[0]):
                for k in range(16):
                    s[k] += parts[j, g, k, fl, ci]
            for b in range(4):  # r = G^T S
                s1s2 = s[4 + b] + s[8 + b]
                r[0, b] = s[b] + s1s2 * half
                r[1, b] = (s[4 + b] - s[8 + b]) * half
                r[2, b] = s1s2 * half + s[12 + b]
            for a in range(3):  # (G^T S) G
                dW[fi, ci, a, 0] = r[a, 0] + (r[a, 1] + r[a, 2]) * half
                dW[fi, ci, a, 1] = (r[a, 1] - r[a, 2]) * half
                dW[fi, ci, a, 2] = (r[a, 1] + r[a, 2]) * half + r[a, 3]
