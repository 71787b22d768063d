"""Fast 2-D convolution: the reference ``layers/conv2d.py`` with a BLAS-friendly layout.

Same math as the reference (see its docstring), same gradients. What makes it fast:

1. One matrix product per group for the WHOLE batch, laid out so that BLAS writes the output
   directly in the activation layout (``layout.py``)::

       cols (Cg*KH*KW, N*OH*OW)   cols[(c, u, v), (n, i, j)] = xp[n, c, i*s + u, j*s + v]
       out  (Fg, N*OH*OW)       = W_g (Fg, Cg*KH*KW) @ cols_g             forward
       dW_g^T (Cg*KH*KW, Fg)    = cols_g @ dout_g^T (N*OH*OW, Fg)          backward
       dcols_g (Cg*KH*KW, N*OH*OW) = W_g^T @ dout_g                       backward

   Every operand is a contiguous matrix or the transpose of one, which BLAS takes as a flag,
   so no product copies its inputs, and the output needs no transpose (it is CNHW).
2. im2col and col2im are Numba loops, parallel over rows of ``cols`` (im2col) and over
   (channel, image) planes of dx (col2im). col2im gathers each plane's sum in one thread, so
   overlapping windows accumulate without ``np.add.at`` and without races. Padding is handled
   by index bounds, never by a padded copy of the input.
3. In training, each ``FastConv2d`` builds ``cols`` in a buffer of its own and keeps it for
   the backward pass (~540 MB for the paper preset at batch 32, still below PyTorch's peak
   memory x 1.5; it saves one im2col per layer and step, ~6% of a step). In evaluation, and
   for direct calls of the functions, ``cols`` lives in one scratch buffer shared by all
   layers (``layout.scratch``) and the backward pass rebuilds it. Either way the backward
   pass reuses the buffer for ``dcols`` once ``dW`` is done.
4. ``need_dx=False`` (conv1) skips the input gradient: the ``dcols`` product and col2im.
"""

import numpy as np
from numba import njit, prange

from ..layers.base import as_dtype
from ..layers.conv2d import Conv2d, _check_conv
from ..layers.im2col import conv_output_size
from .layout import in_order, scratch


def _valid_range(v, stride, pad, size, n_out):
    """The j in [0, n_out) for which ``j*stride + v - pad`` lies in [0, size)."""
    lo = max(0, -((v - pad) // stride))  # ceil((pad - v) / stride)
    hi = min(n_out, (size - 1 - v + pad) // stride + 1)
    return lo, max(hi, lo)


_valid_range_nb = njit(cache=True)(_valid_range)


@njit(parallel=True, cache=True)
def im2col_cnhw(cols, xc, kh, kw, stride, pad, oh, ow):
    """``cols[(c, u, v), (n, i, j)] = x[n, c, i*s + u - p, j*s + v - p]`` (0 outside).

    cols (C*KH*KW, N*OH*OW), written; xc (C, N, H, W), the input as a channel-major view
    (any strides). Parallel over the rows of cols; each row is written contiguously.
    """
    c, n, h, w = xc.shape
    for r in prange(c * kh * kw):
        ci = r // (kh * kw)
        u = (r // kw) % kh
        v = r % kw
        j_lo, j_hi = _valid_range_nb(v, stride, pad, w, ow)
        for ni in range(n):
            for i in range(oh):
                y = i * stride + u - pad
                row = cols[r, (ni * oh + i) * ow:(ni * oh + i + 1) * ow]  # (OW,)
                if y < 0 or y >= h:
                    row[:] = 0
                    continue
                for j in range(j_lo):
                    row[j] = 0
                for j in range(j_lo, j_hi):
                    row[j] = xc[ci, ni, y, j * stride + v - pad]
                for j in range(j_hi, ow):
                    row[j] = 0


@njit(parallel=True, cache=True)
def col2im_cnhw(dxc, dcols, kh, kw, stride, pad, oh, ow):
    """The adjoint of :func:`im2col_cnhw`: ``dx[n, c, y, x] = sum of dcols[(c, u, v), (n, i,
    j)]`` over all (u, v, i, j) with ``i*s + u - p = y`` and ``j*s + v - p = x``.

    dxc (C, N, H, W), written; dcols (C*KH*KW, N*OH*OW). Parallel over (channel, image): one
    thread owns a whole H x W plane, so the overlapping windows add up without races.
    """
    c, n, h, w = dxc.shape
    for t in prange(c * n):
        ci = t // n
        ni = t % n
        plane = dxc[ci, ni]  # (H, W)
        plane[:, :] = 0
        for u in range(kh):
            for v in range(kw):
                r = (ci * kh + u) * kw + v
                j_lo, j_hi = _valid_range_nb(v, stride, pad, w, ow)
                for i in range(oh):
                    y = i * stride + u - pad
                    if y < 0 or y >= h:
                        continue
                    src = dcols[r, (ni * oh + i) * ow:(ni * oh + i + 1) * ow]  # (OW,)
                    for j in range(j_lo, j_hi):
                        plane[y, j * stride + v - pad] += src[j]


@njit(parallel=True, cache=True)
def add_bias_rows(out, b):
    """``out[f, :] += b[f]`` for out (F, M), parallel over f."""
    for f in prange(out.shape[0]):
        out[f] += b[f]


@njit(parallel=True, cache=True, fastmath=True)
def small_a_bt(a, b):
    """``a @ b.T`` for a (M, K), b (N, K) with a small M x N result and a long K.

    OpenBLAS (0.3.31, 2 threads) takes ~1.6 s instead of ~6 ms for such products - e.g. the
    cifar preset's conv1 weight gradient, (27 x 65536) @ (65536 x 32) - in either orientation
    (docs/performance.md). This loop is parallel over the rows of a and walks K in chunks that
    stay in cache; it only ever sees results of a few thousand entries.
    """
    m, k = a.shape
    n = b.shape[0]
    out = np.zeros((m, n), dtype=a.dtype)
    chunk = 4096
    for i in prange(m):
        for k0 in range(0, k, chunk):
            k1 = min(k0 + chunk, k)
            for j in range(n):
                acc = a.dtype.type(0)
                for t in range(k0, k1):
                    acc += a[i, t] * b[j, t]
                out[i, j] += acc
    return out


SMALL_PRODUCT = 4096  # results with at most this many entries go through small_a_bt


def conv2d_forward_fast(x, W, b, stride=1, padding=0, groups=1, keep_cols=None):
    """Same as :func:`alexnet_np.layers.conv2d.conv2d_forward`; the output is CNHW in memory.

    Returns ``out (N, F, OH, OW)`` (a transposed view of a contiguous (F, N, OH, OW) array)
    and the cache ``(x, W, stride, padding, groups, cols)``. With ``keep_cols`` (a function
    ``(shape, dtype) -> array`` giving a buffer the caller owns) the im2col matrix is built
    there and kept in the cache for the backward pass; otherwise it is built in the shared
    scratch buffer and the backward pass builds it again (less memory, one more im2col).
    """
    _check_conv(x, W, stride, padding, groups)
    W, b = as_dtype(W, x.dtype), as_dtype(b, x.dtype)
    n, c, h, w = x.shape
    f, cg, kh, kw = W.shape
    fg, kk = f // groups, cg * kh * kw
    oh = conv_output_size(h, kh, stride, padding)
    ow = conv_output_size(w, kw, stride, padding)
    m = n * oh * ow

    cols = (keep_cols or scratch)((c * kh * kw, m), x.dtype)  # (C*KH*KW, N*OH*OW)
    im2col_cnhw(cols, x.transpose(1, 0, 2, 3), kh, kw, stride, padding, oh, ow)
    out = np.empty((f, n, oh, ow), dtype=x.dtype)  # channel-major
    out_mat = out.reshape(f, m)  # (F, N*OH*OW)
    for g in range(groups):
        w_mat = W[g * fg:(g + 1) * fg].reshape(fg, kk)  # (Fg, Cg*KH*KW)
        np.matmul(w_mat, cols[g * kk:(g + 1) * kk], out=out_mat[g * fg:(g + 1) * fg])
    add_bias_rows(out_mat, b)
    kept = cols if keep_cols is not None else None
    return out.transpose(1, 0, 2, 3), (x, W, stride, padding, groups, kept)


def conv2d_backward_fast(dout, cache, need_dx=True):
    """Same as :func:`alexnet_np.layers.conv2d.conv2d_backward`; ``dx`` is None when
    ``need_dx`` is False, and is CNHW in memory otherwise."""
    x, W, stride, padding, groups, cols = cache
    n, c, h, w = x.shape
    f, cg, kh, kw = W.shape
    fg, kk = f // groups, cg * kh * kw
    _, _, oh, ow = dout.shape
    m = n * oh * ow
    dout_mat = in_order(dout, "cnhw").transpose(1, 0, 2, 3).reshape(f, m)  # (F, N*OH*OW)

    db = dout_mat.sum(axis=1)
    if cols is None:  # not kept by the forward pass: rebuild it (module docstring)
        cols = scratch((c * kh * kw, m), x.dtype)
        im2col_cnhw(cols, x.transpose(1, 0, 2, 3), kh, kw, stride, padding, oh, ow)
    dW = np.empty_like(W)
    for g in range(groups):
        # dW_g^T = cols_g @ dout_g^T, not dW_g = dout_g @ cols_g^T: the same product, but
        # OpenBLAS runs this orientation 3-10x faster when the shared dimension N*OH*OW is
        # long (96800 for conv1 at batch 32). The transpose back is a small copy.
        cols_g, dout_g = cols[g * kk:(g + 1) * kk], dout_mat[g * fg:(g + 1) * fg]
        if kk * fg <= SMALL_PRODUCT:
            dw_t = small_a_bt(cols_g, np.ascontiguousarray(dout_g))  # (Cg*KH*KW, Fg)
        else:
            dw_t = cols_g @ dout_g.T  # (Cg*KH*KW, Fg)
        dW[g * fg:(g + 1) * fg] = dw_t.T.reshape(fg, cg, kh, kw)
    if not need_dx:
        return None, dW, db
    dcols = cols  # cols is no longer needed: overwrite it with dcols (C*KH*KW, N*OH*OW)
    for g in range(groups):
        w_mat = W[g * fg:(g + 1) * fg].reshape(fg, kk)  # (Fg, Cg*KH*KW)
        np.matmul(w_mat.T, dout_mat[g * fg:(g + 1) * fg], out=dcols[g * kk:(g + 1) * kk])
    dxc = np.empty((c, n, h, w), dtype=x.dtype)
    col2im_cnhw(dxc, dcols, kh, kw, stride, padding, oh, ow)
    return dxc.transpose(1, 0, 2, 3), dW, db


class FastConv2d(Conv2d):
    """:class:`~alexnet_np.layers.Conv2d` computed by :func:`conv2d_forward_fast`."""

    def forward(self, x):
        keep = self._own_buffer if self.training else None
        out, self.cache = conv2d_forward_fast(x, self.params["W"], self.params["b"],
                                              self.stride, self.padding, self.groups, keep)
        return out

    def _own_buffer(self, shape, dtype):
        """This layer's im2col matrix, kept from forward to backward in training (saves one
        im2col per layer and step for ~540 MB at batch 32 on the paper preset)."""
        buf = getattr(self, "_cols", None)
        if buf is None or buf.shape != shape or buf.dtype != dtype:
            self._cols = buf = np.empty(shape, dtype=dtype)
        return buf

    def backward(self, dout):
        dx, dW, db = conv2d_backward_fast(dout, self.cache, need_dx=self.needs_input_grad)
        self.grads["W"] = as_dtype(dW, self.params["W"].dtype)
        self.grads["b"] = as_dtype(db, self.params["b"].dtype)
        return dx

