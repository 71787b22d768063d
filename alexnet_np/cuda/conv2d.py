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
- v2 ``gemm``: im2col + the tiled GEMM of ``gemm.py``. With P = N OH OW and K = Cg KH KW,
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
from numba import cuda, float32

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

    Grid-stride over cols in memory order, so consecutive threads write consecutive columns.
    """
    rows, p = cols.shape
    n, c, h, w = x.shape
    for idx in range(cuda.grid(1), rows * p, cuda.gridsize(1)):
        col = idx % p
        row = idx // p
        j = col % ow
        i = (col // ow) % oh
        i_n = col // (ow * oh)
        v = row % kw
        u = (row // kw) % kh
        ch = row // (kw * kh)
        y = i * stride + u - pad
        xx = j * stride + v - pad
        if 0 <= y < h and 0 <= xx < w:
            cols[row, col] = x[i_n, ch, y, xx]
        else:
            cols[row, col] = 0.0


@cuda.jit
def col2im_kernel(dx, dcols, kh, kw, stride, pad, oh, ow):
    """The adjoint of im2col, as a gather: thread per dx[n, c, y, x] adds every column that read
    that pixel (overlapping windows accumulate without atomics)."""
    n, c, h, w = dx.shape
    for idx in range(cuda.grid(1), n * c * h * w, cuda.gridsize(1)):
        xx = idx % w
        y = (idx // w) % h
        ch = (idx // (w * h)) % c
        i_n = idx // (w * h * c)
        acc = float32(0.0)
        for u in range(kh):
            ty = y + pad - u
            if ty >= 0 and ty % stride == 0 and ty // stride < oh:
                i = ty // stride
                for v in range(kw):
                    tx = xx + pad - v
                    if tx >= 0 and tx % stride == 0 and tx // stride < ow:
                        j = tx // stride
                        acc += dcols[(ch * kh + u) * kw + v, (i_n * oh + i) * ow + j]
        dx[i_n, ch, y, xx] = acc


@cuda.jit
def mat_to_nchw_kernel(out, mat, b):
    """out[n, f, i, j] = mat[f, n OH OW + i OW + j] + b[f]  (the GEMM result back to NCHW)."""
    n, f, oh, ow = out.shape
    for idx in range(cuda.grid(1), n * f * oh * ow, cuda.gridsize(1)):
        sp = idx % (oh * ow)
        o = (idx // (oh * ow)) % f
        i_n = idx // (oh * ow * f)
        out[i_n, o, sp // ow, sp % ow] = mat[o, i_n * oh * ow + sp] + b[o]


@cuda.jit
def nchw_to_mat_kernel(mat, dout):
    """mat[f, n OH OW + i OW + j] = dout[n, f, i, j]  (dout in the GEMM layout)."""
    n, f, oh, ow = dout.shape
    for idx in range(cuda.grid(1), n * f * oh * ow, cuda.gridsize(1)):
        sp = idx % (oh * ow)
        o = (idx // (oh * ow)) % f
        i_n = idx // (oh * ow * f)
        mat[o, i_n * oh * ow + sp] = dout[i_n, o, sp // ow, sp % ow]


# ---------------------------------------------------------------------------------------------
# launchers
# ---------------------------------------------------------------------------------------------
class ConvWorkspace:
    """Device buffers of the GEMM path for one geometry: cols (C KH KW, P) and mat (F, P)."""
    def __init__(self, geo):
        self.geo = geo
        self.cols = empty((geo.c * geo.kh * geo.kw, geo.p))
        self.mat = empty((geo.f, geo.p))


def conv2d_forward(out, x, W, b, geo, version="gemm", ws=None):
    """``out (N, F, OH, OW) = conv(x (N, C, H, W), W (F, C/g, KH, KW)) + b``.

    The GEMM version leaves im2col(x) in ``ws.cols`` for the backward pass.
    """
    s, p = geo.stride, geo.padding
    if version == "naive":
        conv_fwd_naive_kernel[grid_1d(out.size)](out, x, W, b, s, p)
        return out
    if version != "gemm":
        raise ValueError(f"conv2d: unknown version '{version}'; choose naive or gemm")
    ws = ws or ConvWorkspace(geo)
    im2col_kernel[grid_1d(ws.cols.size)](ws.cols, x, geo.kh, geo.kw, s, p, geo.oh, geo.ow)
    w_mat = W.reshape(geo.f, geo.k)  # (F, K)
    for g in range(geo.groups):
        fs = slice(g * geo.fg, (g + 1) * geo.fg)
        gemm(ws.mat[fs], w_mat[fs], ws.cols[g * geo.k:(g + 1) * geo.k])  # (Fg, P)
    mat_to_nchw_kernel[grid_1d(out.size)](out, ws.mat, b)
    return out


def conv2d_backward(dx, dW, db, dout, x, W, geo, version="gemm", ws=None):
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
    nchw_to_mat_kernel[grid_1d(dout.size)](ws.mat, dout)  # dmat (F, P)
    sum_rows(db, ws.mat)
    w_mat = W.reshape(geo.f, geo.k)
    dw_mat = dW.reshape(geo.f, geo.k)
    for g in range(geo.groups):
        fs, ks = slice(g * geo.fg, (g + 1) * geo.fg), slice(g * geo.k, (g + 1) * geo.k)
        gemm(dw_mat[fs], ws.mat[fs], ws.cols[ks], trans_b=True)  # (Fg, P) @ (P, K)
    if dx is not None:
        for g in range(geo.groups):
            fs, ks = slice(g * geo.fg, (g + 1) * geo.fg), slice(g * geo.k, (g + 1) * geo.k)
            gemm(ws.cols[ks], w_mat[fs], ws.mat[fs], trans_a=True)  # dcols (K, P)
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
    for v in VERSIONS:
        fwd = lambda v=v: conv2d_forward(d_out, d_x, d_W, d_b, geo, v, ws)  # noqa: E731
        bwd = lambda v=v: conv2d_backward(d_dx, d_dW, d_db, d_dout, d_x, d_W, geo, v,  # noqa: E731
                                          ws)
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
    else:  # AlexNet conv1 and conv2 at batch 128
        geos = [ConvGeometry(128, 3, 227, 227, 96, 11, 11, 4, 0, 1),
                ConvGeometry(128, 96, 27, 27, 256, 5, 5, 1, 2, 2)]
        repeat = 5
    for geo in geos:
        print(f"conv2d self-check: {geo}")
        _check(geo, rng, repeat, tol=1e-4 if simulator() else 1e-3)


if __name__ == "__main__":
    _main()
