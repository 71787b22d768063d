"""2-D convolution with stride, padding and groups on the GPU: forward, backward-data and
backward-weights (paper sec. 3, Fig. 2; the NumPy reference is ``layers/conv2d.py``).

The math (group g owns input channels [g Cg, (g+1) Cg) and filters [g Fg, (g+1) Fg))::

    out[n, f, i, j] = b[f] + sum_{c, u, v} W[f, c, u, v] * xp[n, g Cg + c, i s + u, j s + v]
    dW[f, c, u, v]  = sum_{n, i, j} dout[n, f, i, j] * xp[n, g Cg + c, i s + u, j s + v]
    dxp[n, C, y, x] = sum_{f in group of C} sum_{u, v : (y - u) = i s, (x - v) = j s}
                          dout[n, f, i, j] * W[f, C - g Cg, u, v]
    db[f]           = sum_{n, i, j} dout[n, f, i, j]

(xp = x zero-padded by p; OH = (H + 2p - KH) // s + 1.)

Two versions of each direction:

- v1 ``naive``: one thread per output element, reading global memory directly; grid-stride
  over the flattened output. Forward: thread per out[n, f, i, j]. Backward-data: thread per
  dx[n, C, y, x], GATHERING from every window that covers (y, x) -- no atomics, because each
  thread writes only its own element. Backward-weights: thread per dW[f, c, u, v], summing
  over the batch and the output positions.
- v2 ``gemm``: im2col + a GEMM of ``gemm.py`` (``gemm_version``: v2 ``tiled`` or v3
  ``tiled128``, one launch for all groups). With P = N OH OW and K = Cg KH KW,
  ``cols (C KH KW, P)`` holds ``cols[c KH KW + u KW + v, n OH OW + i OW + j] =
  xp[n, c, i s + u, j s + v]``; the rows of group g are a contiguous block of K rows, so every
  group is a plain product of row blocks:

      forward   out_mat[g] (Fg, P) = W[g] (Fg, K) @ cols[g] (K, P)    -> to NCHW, + b
      backward  dW[g]  (Fg, K) = dmat[g] (Fg, P) @ cols[g]^T (P, K)
                dcols[g] (K, P) = W[g]^T (K, Fg) @ dmat[g] (Fg, P)    -> col2im (gather)
                db = row sums of dmat (F, P)

  ``dcols`` reuses the ``cols`` buffer once dW has been computed. col2im gathers: one thread
  per input pixel adds the (at most ceil(KH/s) ceil(KW/s)) columns that read it.
"""

from dataclasses import dataclass

import numpy as np
from numba import cuda, float32, int64, uint32

from ..layers.conv2d import conv2d_backward as np_bwd
from ..layers.conv2d import conv2d_forward as np_fwd
from .common import empty, grid_1d, max_rel_err, report, simulator, time_call, to_device
from .gemm import gemm
from .reduce import sum_channels, sum_rows

VERSIONS = ("naive", "gemm")


@dataclass
class ConvGeometry:
    """All sizes of one convolution (batch n)."""
    n: int
    c: int
    h: int
    w: int
    f: int
    kh: int
    kw: int
    stride: int = 1
    padding: int = 0
    groups: int = 1

    @property
    def oh(self):
        return (self.h + 2 * self.padding - self.kh) // self.stride + 1

    @property
    def ow(self):
        return (self.w + 2 * self.padding - self.kw) // self.stride + 1

    @property
    def cg(self):  # input channels per group
        return self.c // self.groups

    @property
    def fg(self):  # filters per group
        return self.f // self.groups

    @property
    def k(self):  # GEMM inner size per group: Cg KH KW
        return self.cg * self.kh * self.kw

    @property
    def p(self):  # GEMM columns: every output position of the batch
        return self.n * self.oh * self.ow

    @property
    def out_shape(self):
        return (self.n, self.f, self.oh, self.ow)

    @classmethod
    def of(cls, x_shape, w_shape, stride=1, padding=0, groups=1):
        n, c, h, w = x_shape
        f, cg, kh, kw = w_shape
        if cg * groups != c or f % groups:
            raise ValueError(f"conv2d: input {x_shape} and weights {w_shape} do not fit "
                             f"groups={groups}")
        return cls(n, c, h, w, f, kh, kw, stride, padding, groups)


# ---------------------------------------------------------------------------------------------
# v1: naive direct kernels
# ---------------------------------------------------------------------------------------------
@cuda.jit
def conv_fwd_naive_kernel(out, x, W, b, stride, pad):
    """Thread per out[n, f, i, j] (grid-stride): bias + the window's dot product."""
    n, f, oh, ow = out.shape
    _, c, h, w = x.shape
    _, cg, kh, kw = W.shape
    fg = f // (c // cg)
    for idx in range(cuda.grid(1), n * f * oh * ow, cuda.gridsize(1)):
        j = idx % ow
        i = (idx // ow) % oh
        o = (idx // (ow * oh)) % f
        i_n = idx // (ow * oh * f)
        c0 = (o // fg) * cg
        acc = b[o]
        for ci in range(cg):
            for u in range(kh):
                y = i * stride + u - pad
                if 0 <= y < h:
                    for v in range(kw):
                        xx = j * stride + v - pad
                        if 0 <= xx < w:
                            acc += W[o, ci, u, v] * x[i_n, c0 + ci, y, xx]
        out[i_n, o, i, j] = acc


@cuda.jit
def conv_bwd_data_naive_kernel(dx, dout, W, stride, pad):
    """Thread per dx[n, C, y, x] (grid-stride), gathering from every window that covers it."""
    n, c, h, w = dx.shape
    _, f, oh, ow = dout.shape
    _, cg, kh, kw = W.shape
    fg = f // (c // cg)
    for idx in range(cuda.grid(1), n * c * h * w, cuda.gridsize(1)):
        xx = idx % w
        y = (idx // w) % h
        ch = (idx // (w * h)) % c
        i_n = idx // (w * h * c)
        g = ch // cg
        ci = ch - g * cg
        acc = float32(0.0)
        for u in range(kh):
            ty = y + pad - u  # = i * stride for the window row i that reads y at offset u
            if ty >= 0 and ty % stride == 0 and ty // stride < oh:
                i = ty // stride
                for v in range(kw):
                    tx = xx + pad - v
                    if tx >= 0 and tx % stride == 0 and tx // stride < ow:
                        j = tx // stride
                        for o in range(g * fg, (g + 1) * fg):
                            acc += dout[i_n, o, i, j] * W[o, ci, u, v]
        dx[i_n, ch, y, xx] = acc


@cuda.jit
def conv_bwd_weights_naive_kernel(dW, dout, x, stride, pad):
    """Thread per dW[f, c, u, v] (grid-stride): sum over the batch and output positions."""
    f, cg, kh, kw = dW.shape
    n, _, oh, ow = dout.shape
    _, c, h, w = x.shape
    fg = f // (c // cg)
    for idx in range(cuda.grid(1), f * cg * kh * kw, cuda.gridsize(1)):
        v = idx % kw
        u = (idx // kw) % kh
        ci = (idx // (kw * kh)) % cg
        o = idx // (kw * kh * cg)
        ch = (o // fg) * cg + ci
        acc = float32(0.0)
        for i_n in range(n):
            for i in range(oh):
                y = i * stride + u - pad
                if 0 <= y < h:
                    for j in range(ow):
                        xx = j * stride + v - pad
                        if 0 <= xx < w:
                            acc += dout[i_n, o, i, j] * x[i_n, ch, y, xx]
        dW[o, ci, u, v] = acc


# ---------------------------------------------------------------------------------------------
# v2: im2col + tiled GEMM
# ---------------------------------------------------------------------------------------------
@cuda.jit
def im2col_kernel(cols, x, kh, kw, stride, pad, oh, ow):
    """cols[c KH KW + u KW + v, n OH OW + i OW + j] = xp[n, c, i s + u, j s + v] (0 in the pad).

    Grid (column blocks, C): a thread owns one column (n, i, j) of one channel c (blockIdx.y)
    and writes its KH KW rows. The column is split into (n, i, j) once, with 32-bit divisions,
    and the window is then walked by increments, so no division runs per element; consecutive
    threads write consecutive columns (coalesced).
    """
    p = cols.shape[1]
    h, w = x.shape[2], x.shape[3]
    ch = cuda.blockIdx.y
    for col in range(cuda.blockIdx.x * cuda.blockDim.x + cuda.threadIdx.x, p,
                     cuda.gridDim.x * cuda.blockDim.x):
        q = int64(uint32(col) // uint32(ow))  # n OH + i
        j = col - q * ow
        i_n = int64(uint32(q) // uint32(oh))
        i = q - i_n * oh
        y0 = i * stride - pad
        x0 = j * stride - pad
        r = ch * kh * kw
        for u in range(kh):
            y = y0 + u
            for v in range(kw):
                xx = x0 + v
                if 0 <= y < h and 0 <= xx < w:
                    cols[r, col] = x[i_n, ch, y, xx]
                else:
                    cols[r, col] = float32(0.0)
                r += 1


@cuda.jit
def col2im_kernel(dx, dcols, kh, kw, stride, pad, oh, ow):
    """The adjoint of im2col, as a gather: thread per dx[n, c, y, x] adds every column that read
    that pixel (overlapping windows accumulate without atomics). The windows that contain
    (y, x) are the i with 0 <= y + p - i s < KH (likewise j): their range is computed once,
    so the loops run only over them, with no division inside."""
    n, c, h, w = dx.shape
    for idx in range(cuda.grid(1), n * c * h * w, cuda.gridsize(1)):
        q = int64(uint32(idx) // uint32(w))  # (n C + c) H + y
        xx = idx - q * w
        q2 = int64(uint32(q) // uint32(h))  # n C + c
        y = q - q2 * h
        i_n = int64(uint32(q2) // uint32(c))
        ch = q2 - i_n * c
        yp = y + pad
        xp = xx + pad
        i_lo = 0 if yp < kh else (yp - kh) // stride + 1  # ceil((yp - KH + 1) / s)
        i_hi = min(oh - 1, yp // stride)
        j_lo = 0 if xp < kw else (xp - kw) // stride + 1
        j_hi = min(ow - 1, xp // stride)
        acc = float32(0.0)
        for i in range(i_lo, i_hi + 1):
            rbase = (ch * kh + yp - i * stride) * kw + xp  # row of (u = yp - i s, v = xp)
            cbase = (i_n * oh + i) * ow
            for j in range(j_lo, j_hi + 1):
                acc += dcols[rbase - j * stride, cbase + j]  # v = xp - j s
        dx[i_n, ch, y, xx] = acc


@cuda.jit
def mat_to_nchw_kernel(out, mat, b, f, ohw):
    """out[n, f, i, j] = mat[f, n OH OW + i OW + j] + b[f]  (the GEMM result back to NCHW).

    ``out`` is the flat view of the (N, F, OH, OW) array; ``ohw`` = OH OW. Two 32-bit
    divisions per element, consecutive threads read and write consecutive addresses."""
    for idx in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        q = int64(uint32(idx) // uint32(ohw))  # n F + f
        sp = idx - q * ohw
        i_n = int64(uint32(q) // uint32(f))
        o = q - i_n * f
        out[idx] = mat[o, i_n * ohw + sp] + b[o]


@cuda.jit
def nchw_to_mat_kernel(mat, dout, f, ohw):
    """mat[f, n OH OW + i OW + j] = dout[n, f, i, j]  (dout, flat, in the GEMM layout)."""
    for idx in range(cuda.grid(1), dout.size, cuda.gridsize(1)):
        q = int64(uint32(idx) // uint32(ohw))
        sp = idx - q * ohw
        i_n = int64(uint32(q) // uint32(f))
        o = q - i_n * f
        mat[o, i_n * ohw + sp] = dout[idx]


# ---------------------------------------------------------------------------------------------
# launchers
# ---------------------------------------------------------------------------------------------
class ConvWorkspace:
    """Device buffers of the GEMM path for one geometry: cols (C KH KW, P) and mat (F, P)."""
    def __init__(self, geo):
        self.geo = geo
        self.cols = empty((geo.c * geo.kh * geo.kw, geo.p))
        self.mat = empty((geo.f, geo.p))


def conv2d_forward(out, x, W, b, geo, version="gemm", ws=None, gemm_version="tiled128"):
    """``out (N, F, OH, OW) = conv(x (N, C, H, W), W (F, C/g, KH, KW)) + b``.

    The GEMM version leaves im2col(x) in ``ws.cols`` for the backward pass; ``gemm_version``
    picks its GEMM (``gemm.VERSIONS``).
    """
    s, p = geo.stride, geo.padding
    if version == "naive":
        conv_fwd_naive_kernel[grid_1d(out.size)](out, x, W, b, s, p)
        return out
    if version != "gemm":
        raise ValueError(f"conv2d: unknown version '{version}'; choose naive or gemm")
    ws = ws or ConvWorkspace(geo)
    blocks, threads = grid_1d(geo.p)
    im2col_kernel[(blocks, geo.c), threads](ws.cols, x, geo.kh, geo.kw, s, p, geo.oh, geo.ow)
    w_mat = W.reshape(geo.f, geo.k)  # (F, K)
    # per group g: mat[g] (Fg, P) = W[g] (Fg, K) @ cols[g] (K, P)
    gemm(ws.mat, w_mat, ws.cols, version=gemm_version, groups=geo.groups)
    mat_to_nchw_kernel[grid_1d(out.size)](out.reshape(out.size), ws.mat, b, geo.f,
                                          geo.oh * geo.ow)
    return out


def conv2d_backward(dx, dW, db, dout, x, W, geo, version="gemm", ws=None,
                    gemm_version="tiled128"):
    """Fill ``dW``, ``db`` and (unless ``dx`` is None: conv1 needs no input gradient) ``dx``.

    The GEMM version needs the ``ws`` of the forward pass (its ``cols``); it overwrites them.
    """
    s, p = geo.stride, geo.padding
    if version == "naive":
        conv_bwd_weights_naive_kernel[grid_1d(dW.size)](dW, dout, x, s, p)
        sum_channels(db, dout)
        if dx is not None:
            conv_bwd_data_naive_kernel[grid_1d(dx.size)](dx, dout, W, s, p)
        return dx, dW, db
    if version != "gemm":
        raise ValueError(f"conv2d: unknown version '{version}'; choose naive or gemm")
    nchw_to_mat_kernel[grid_1d(dout.size)](ws.mat, dout.reshape(dout.size), geo.f,
                                           geo.oh * geo.ow)  # dmat (F, P)
    sum_rows(db, ws.mat)
    w_mat = W.reshape(geo.f, geo.k)
    dw_mat = dW.reshape(geo.f, geo.k)
    # per group g: dW[g] (Fg, K) = dmat[g] (Fg, P) @ cols[g]^T (P, K)   (split-K in v3)
    gemm(dw_mat, ws.mat, ws.cols, trans_b=True, version=gemm_version, groups=geo.groups)
    if dx is not None:  # per group g: dcols[g] (K, P) = W[g]^T (K, Fg) @ dmat[g] (Fg, P)
        gemm(ws.cols, w_mat, ws.mat, trans_a=True, version=gemm_version, groups=geo.groups)
        col2im_kernel[grid_1d(dx.size)](dx, ws.cols, geo.kh, geo.kw, s, p, geo.oh, geo.ow)
    return dx, dW, db


def _check(geo, rng, repeat, tol=1e-4):
    x = rng.standard_normal((geo.n, geo.c, geo.h, geo.w)).astype(np.float32)
    Wt = rng.standard_normal((geo.f, geo.cg, geo.kh, geo.kw)).astype(np.float32)
    bt = rng.standard_normal(geo.f).astype(np.float32)
    out_ref, cache = np_fwd(x, Wt, bt, geo.stride, geo.padding, geo.groups)
    dout = rng.standard_normal(out_ref.shape).astype(np.float32)
    dx_ref, dw_ref, db_ref = np_bwd(dout, cache)
    d_x, d_W, d_b, d_dout = to_device(x), to_device(Wt), to_device(bt), to_device(dout)
    d_out, d_dx, d_dW, d_db = (empty(a.shape) for a in (out_ref, x, Wt, bt))
    ws = ConvWorkspace(geo)
    for v, gv in (("naive", "naive"), ("gemm", "tiled"), ("gemm", "tiled128")):
        fwd = lambda v=v, gv=gv: conv2d_forward(d_out, d_x, d_W, d_b, geo, v, ws, gv)  # noqa: E731
        bwd = lambda v=v, gv=gv: conv2d_backward(d_dx, d_dW, d_db, d_dout, d_x,  # noqa: E731
                                                 d_W, geo, v, ws, gv)
        v = v if v == "naive" else f"{v}/{gv}"
        fwd()
        report(f"conv2d {v} forward", max_rel_err(d_out.copy_to_host(), out_ref), tol,
               time_call(fwd, repeat=repeat))
        fwd()
        bwd()
        report(f"conv2d {v} backward-data", max_rel_err(d_dx.copy_to_host(), dx_ref), tol)
        report(f"conv2d {v} backward-weights", max_rel_err(d_dW.copy_to_host(), dw_ref), tol)
        report(f"conv2d {v} bias grad", max_rel_err(d_db.copy_to_host(), db_ref), tol)
        ms = time_call(lambda f=fwd, b=bwd: (f(), b()), repeat=repeat)
        ms -= time_call(fwd, repeat=repeat)
        print(f"conv2d {v} backward (data + weights + bias) {ms:10.3f} ms")


def _main():
    rng = np.random.default_rng(0)
    if simulator():
        geos = [ConvGeometry(2, 4, 9, 9, 6, 3, 3, 2, 1, 2)]
        repeat = 1
    else:  # AlexNet conv1 and conv2 at batch 32 (the naive kernels take seconds at 128)
        geos = [ConvGeometry(32, 3, 227, 227, 96, 11, 11, 4, 0, 1),
                ConvGeometry(32, 96, 27, 27, 256, 5, 5, 1, 2, 2)]
        repeat = 3
    for geo in geos:
        print(f"conv2d self-check: {geo}")
        _check(geo, rng, repeat, tol=1e-4 if simulator() else 1e-3)


if __name__ == "__main__":
    _main()
