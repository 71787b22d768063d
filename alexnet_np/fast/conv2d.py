"""Fast 2-D convolution: the reference ``layers/conv2d.py`` a few images at a time.

Same math as the reference (see its docstring), same gradients. What makes it fast:

1. The output is written directly in the activation layout (``layout.py``): channel-major,
   ``out (F, N*OH*OW)`` in memory, so that the columns of one image are one block of columns
   and the next layer reads it without a transpose. For images ``a..z`` (a CHUNK)::

       cols (Cg*KH*KW, L)     cols[(c, u, v), (n, i, j)] = xp[n, c, i*s + u, j*s + v],
                              L = (z - a)*OH*OW, n in a..z
       out[:, chunk] (Fg, L)  = W_g (Fg, Cg*KH*KW) @ cols_g                    forward
       dW_g^T (Cg*KH*KW, Fg) += cols_g @ dout_g[:, chunk]^T                     backward
       dcols_g (Cg*KH*KW, L)  = W_g^T @ dout_g[:, chunk]                       backward

   A chunk's ``cols`` holds a few images (``CHUNK_BYTES``, 16 MB): it is built, used by BLAS
   while it is still in (L3) cache, and overwritten by the next chunk. Smaller chunks make
   the weight-gradient products (inner dimension L) slower; larger ones gain nothing
   (single-thread CPU time on the paper preset: docs/performance.md). The im2col matrix of
   the whole batch (224 MB for conv2 at batch 32) is never materialised, nothing is kept from the
   forward to the backward pass but the input: the backward pass rebuilds each chunk's
   ``cols`` (an im2col of a few MB, cheap next to the products that read it).
2. The batch is cut into at most ``MAX_JOBS`` jobs (ranges of images) that the worker threads
   of ``threads.py`` share, each with a single-threaded BLAS: one level of parallelism, no
   two thread pools spinning against each other. Each job sums its own part of ``dW`` and
   ``db``; the parts are added in job order, so the result does not depend on which thread
   ran what.
3. im2col and col2im are serial Numba loops that release the GIL. Each input plane is first
   split by column phase (mod the stride), so that every row segment of cols is a contiguous
   copy, even for conv1's stride 4; col2im gathers each (H, W) plane of dx in one pass, so
   the overlapping windows add up without ``np.add.at``. Padding is handled by index bounds,
   never by a padded copy of the input.
4. ``need_dx=False`` (conv1) skips the input gradient: the ``dcols`` product and col2im.
5. The forward pass of 3x3 stride-1 convolutions (conv3-5) uses Winograd's F(2x2, 3x3)
   instead (``winograd.py``): half the multiply-adds, no im2col matrix; that of 5x5 stride-1
   convolutions (conv2) F(3x3, 5x5) (``winograd5.py``): 0.22 of the multiply-adds.
6. Their INPUT gradient too (``DX_WINOGRAD``; stride 1, padding p < K). dx is the
   correlation of dout, padded by K - 1 - p, with the filters turned by 180 degrees and
   transposed within each group (``W'[c, f, u, v] = W[f, c, K-1-u, K-1-v]``): a forward pass
   with dout as the input, by the same Winograd code. It runs as a second set of jobs after
   the weight-gradient jobs, not inside them: in round 6, when those jobs still built im2col
   chunks, its transformed tiles pushed each job's im2col chunk out of cache and the im2col
   and the weight-gradient products slowed down by as much as the input gradient saved
   (conv2, one worker: 130.8 against 126.0 ms); with the weight gradient by Winograd too
   (point 7), one set of jobs doing both measured the same as two (round 7). As a second
   pass, paper preset at batch 32 on two workers (docs/performance.md, round 6): conv2's
   backward pass 141 -> 119 ms, conv3-5's 83 -> 81, 76 -> 73, 56 -> 53 ms. dx rounds as a
   Winograd forward pass does (float32: ~1e-5 of its largest value on conv2's shape, against
   3e-7 for ``W^T @ dout`` and col2im; tests/test_fast_winograd5.py).
7. Their WEIGHT gradient too (``DW_WINOGRAD``): for 3x3 kernels the forward pass's tiles
   read backwards, ``dW = G^T [sum over tiles of (A dY A^T) * (B^T d B)] G``
   (``winograd.py`` derives it); for 5x5 the same along the rows only, the columns summed
   directly (``winograd5.py``: the 2-D scheme rounds too coarsely). Each job writes its part
   (products with the tiles as the inner dimension) into its slot of one array; the parts
   are added in job order while G is applied. No im2col in the backward pass of conv2-5:
   paper preset, batch 32, two workers, conv2 128 -> 106 ms, conv3-5 85 -> 75, 74 -> 68,
   56 -> 51 ms (docs/performance.md, round 7). float32: dW within ~3e-6 (conv2) and ~7e-7
   (conv3) of its largest entry, against ~4e-7 by im2col.
"""

import threading

import numpy as np
from numba import njit

from ..layers.base import as_dtype
from ..layers.conv2d import Conv2d, _check_conv
from ..layers.im2col import conv_output_size
from . import winograd, winograd5
from .layout import in_order
from .threads import chunked, run_jobs, split

CHUNK_BYTES = 16 << 20  # one chunk's cols at most (one image at least): see the docstring
MAX_JOBS = 4  # jobs per batch: enough to keep 2-4 workers busy; each holds a part of dW
SMALL_PRODUCT = 4096  # dW parts with at most this many entries go through acc_a_bt
DX_WINOGRAD = True  # input gradient of 3x3 / 5x5 stride-1 convolutions by Winograd too
DW_WINOGRAD = True  # and their weight gradient (point 7)
WINOGRAD = True  # forward pass of 3x3 / 5x5 stride-1 convolutions by winograd.py / winograd5.py


def _valid_range(v, stride, pad, size, n_out):
    """The j in [0, n_out) for which ``j*stride + v - pad`` lies in [0, size)."""
    lo = max(0, -((v - pad) // stride))  # ceil((pad - v) / stride)
    hi = min(n_out, (size - 1 - v + pad) // stride + 1)
    return lo, max(hi, lo)


_valid_range_nb = njit(cache=True)(_valid_range)


@njit(nogil=True, cache=True, error_model="numpy")
def split_phases(ph, plane, stride):
    """``ph[r, y, q] = plane[y, q*stride + r]``: the columns of an (H, W) plane sorted by
    their remainder mod the stride, so that the input columns ``j*stride + t`` (j = 0, 1,
    ...) a strided window reads are contiguous in ``ph``. Entries past the right edge are
    left as they are: no caller reads them (im2col and max-pooling read valid columns only),
    and without a bounds test in it the copy loop vectorises."""
    h, w = plane.shape
    for r in range(stride):
        n_q = (w - r + stride - 1) // stride  # columns r, r + stride, ... < W
        for y in range(h):
            src, dst = plane[y], ph[r, y]
            for q in range(n_q):
                dst[q] = src[q * stride + r]


@njit(nogil=True, cache=True, error_model="numpy")
def im2col_images(cols, xc, n0, n1, kh, kw, stride, pad, oh, ow):
    """``cols[(c, u, v), (n - n0, i, j)] = x[n, c, i*s + u - p, j*s + v - p]`` (0 outside),
    for the images n0 <= n < n1.

    cols (C*KH*KW, (n1 - n0)*OH*OW), written; xc (C, N, H, W), the input as a channel-major
    view (any strides). Plane by plane: each (H, W) plane is split by column phase once
    (:func:`split_phases`), then every row segment of cols is one contiguous copy, also for
    conv1's stride 4.
    """
    c, _, h, w = xc.shape
    ph = np.empty((stride, h, (w + stride - 1) // stride), dtype=cols.dtype)
    for ci in range(c):
        for ni in range(n0, n1):
            split_phases(ph, xc[ci, ni], stride)
            k0 = (ni - n0) * oh * ow  # this image's first column
            for u in range(kh):
                for v in range(kw):
                    row = cols[(ci * kh + u) * kw + v]  # (L,)
                    j_lo, j_hi = _valid_range_nb(v, stride, pad, w, ow)
                    r0, q0 = (v - pad) % stride, (v - pad) // stride  # x column j*s + v - p
                    for i in range(oh):
                        base = k0 + i * ow  # row[base:base + OW] is output row i
                        y = i * stride + u - pad
                        if y < 0 or y >= h:
                            for j in range(ow):
                                row[base + j] = 0
                            continue
                        for j in range(j_lo):
                            row[base + j] = 0
                        src = ph[r0, y, j_lo + q0:j_hi + q0]  # x columns j*s + v - p
                        dst = row[base + j_lo:base + j_hi]
                        for j in range(dst.size):
                            dst[j] = src[j]
                        for j in range(j_hi, ow):
                            row[base + j] = 0


@njit(nogil=True, cache=True, error_model="numpy")
def col2im_images(dxc, dcols, n0, n1, kh, kw, stride, pad, oh, ow):
    """The adjoint of :func:`im2col_images`: ``dx[n, c, y, x] = sum of dcols[(c, u, v),
    (n - n0, i, j)]`` over all (u, v, i, j) with ``i*s + u - p = y`` and ``j*s + v - p = x``.

    dxc (C, N, H, W): the planes of images n0 <= n < n1 are written; dcols (C*KH*KW,
    (n1 - n0)*OH*OW). One plane at a time, summed in its column phases (contiguous adds),
    so the overlapping windows add up in place; then the phases are put back in order.
    """
    c, _, h, w = dxc.shape
    wq = (w + stride - 1) // stride
    ph = np.empty((stride, h, wq), dtype=dxc.dtype)
    for ci in range(c):
        for ni in range(n0, n1):
            ph[:] = 0
            k0 = (ni - n0) * oh * ow
            for u in range(kh):
                for v in range(kw):
                    row = dcols[(ci * kh + u) * kw + v]  # (L,)
                    j_lo, j_hi = _valid_range_nb(v, stride, pad, w, ow)
                    r0, q0 = (v - pad) % stride, (v - pad) // stride
                    for i in range(oh):
                        y = i * stride + u - pad
                        if y < 0 or y >= h:
                            continue
                        dst = ph[r0, y, j_lo + q0:j_hi + q0]  # x columns j*s + v - p
                        src = row[k0 + i * ow + j_lo:k0 + i * ow + j_hi]
                        for j in range(dst.size):
                            dst[j] += src[j]
            plane = dxc[ci, ni]  # (H, W)
            for r in range(stride):
                for y in range(h):
                    for q in range(wq):
                        col = q * stride + r
                        if col < w:
                            plane[y, col] = ph[r, y, q]


@njit(nogil=True, cache=True, error_model="numpy")
def add_bias_cols(out, b, k0, k1):
    """``out[f, k0:k1] += b[f]`` for out (F, M)."""
    for f in range(out.shape[0]):
        row = out[f, k0:k1]
        bf = b[f]
        for k in range(row.size):
            row[k] += bf


@njit(nogil=True, cache=True, fastmath=True)
def acc_a_bt(out, a, b):
    """``out += a @ b.T`` for a (M, K), b (N, K) with a small M x N result and a long K.

    In round 1 OpenBLAS with two threads took ~1.6 s instead of ~6 ms for such products
    (e.g. the cifar preset's conv1 weight gradient, 27 x 65536 times 65536 x 32) when other
    processes kept the cores busy (docs/performance.md). This loop walks K in chunks that
    stay in cache; it only ever sees results of a few thousand entries.
    """
    m, k = a.shape
    n = b.shape[0]
    chunk = 4096
    for k0 in range(0, k, chunk):
        k1 = min(k0 + chunk, k)
        for i in range(m):
            for j in range(n):
                acc = out.dtype.type(0)
                for t in range(k0, k1):
                    acc += a[i, t] * b[j, t]
                out[i, j] += acc


_local = threading.local()


def _buffer(shape, dtype, slot=0):
    """This thread's reusable scratch array number ``slot`` (0: cols; 1, 2: Winograd's V and
    M) of ``shape``, grown as needed, never shrunk."""
    size = int(np.prod(shape))
    bufs = getattr(_local, "bufs", None)
    if bufs is None:
        _local.bufs = bufs = {}
    buf = bufs.get(slot)
    if buf is None or buf.dtype != dtype or buf.size < size:
        bufs[slot] = buf = np.empty(size, dtype=dtype)
    return buf[:size].reshape(shape)


def use_winograd(W, stride):
    """The Winograd module that computes this convolution's forward pass, or None:
    :mod:`winograd` for 3x3 kernels (conv3, conv4, conv5 of every preset), :mod:`winograd5`
    for 5x5 (conv2 of ``paper``, ``tiny`` and ``cifar``); stride 1 only."""
    if not WINOGRAD or stride != 1:
        return None
    return {(3, 3): winograd, (5, 5): winograd5}.get(tuple(W.shape[2:]))


def _winograd_buffers(dtype):
    """Scratch arrays for :func:`winograd_conv`: this thread's buffers 1 (V) and 2 (M)."""
    return lambda i, shape: _buffer(shape, dtype, slot=1 + i)


def _chunks(job, rows, ohw, itemsize):
    """The job's images (a, z) cut into equal chunks whose cols (rows, images*OH*OW) fit in
    CHUNK_BYTES (at least one image each)."""
    return chunked(job[0], job[1], max(1, CHUNK_BYTES // (rows * ohw * itemsize)))


def conv2d_forward_fast(x, W, b, stride=1, padding=0, groups=1):
    """Same as :func:`alexnet_np.layers.conv2d.conv2d_forward`; the output is CNHW in memory.

    Returns ``out (N, F, OH, OW)`` (a transposed view of a contiguous (F, N, OH, OW) array)
    and the cache ``(x, W, stride, padding, groups)``.
    """
    _check_conv(x, W, stride, padding, groups)
    W, b = as_dtype(W, x.dtype), as_dtype(b, x.dtype)
    n, c, h, w = x.shape
    f, cg, kh, kw = W.shape
    fg, kk = f // groups, cg * kh * kw
    oh = conv_output_size(h, kh, stride, padding)
    ow = conv_output_size(w, kw, stride, padding)
    ohw = oh * ow
    xc = x.transpose(1, 0, 2, 3)  # (C, N, H, W) view
    out = np.empty((f, n, oh, ow), dtype=x.dtype)  # channel-major

    wino = use_winograd(W, stride)
    if wino is not None:
        U = wino.transform_filters(W)  # (16 or 49, F, Cg)

        def job(images):
            wino.winograd_conv(out, xc, U, b, padding, groups, images,
                               _winograd_buffers(x.dtype))
    else:
        w_mats = [W[g * fg:(g + 1) * fg].reshape(fg, kk) for g in range(groups)]  # (Fg, Cg*KH*KW)
        out_mat = out.reshape(f, n * ohw)  # (F, N*OH*OW)

        def job(images):
            for a, z in _chunks(images, c * kh * kw, ohw, x.itemsize):
                cols = _buffer((c * kh * kw, (z - a) * ohw), x.dtype)  # (C*KH*KW, L)
                im2col_images(cols, xc, a, z, kh, kw, stride, padding, oh, ow)
                for g in range(groups):
                    np.matmul(w_mats[g], cols[g * kk:(g + 1) * kk],
                              out=out_mat[g * fg:(g + 1) * fg, a * ohw:z * ohw])
                add_bias_cols(out_mat, b, a * ohw, z * ohw)

    run_jobs(job, split(n, MAX_JOBS))
    return out.transpose(1, 0, 2, 3), (x, W, stride, padding, groups)


def conv2d_backward_fast(dout, cache, need_dx=True):
    """Same as :func:`alexnet_np.layers.conv2d.conv2d_backward`; ``dx`` is None when
    ``need_dx`` is False, and is CNHW in memory otherwise."""
    x, W, stride, padding, groups = cache
    n, c, h, w = x.shape
    f, cg, kh, kw = W.shape
    fg, kk = f // groups, cg * kh * kw
    _, _, oh, ow = dout.shape
    ohw = oh * ow
    xc = x.transpose(1, 0, 2, 3)  # (C, N, H, W) view
    dout_mat = in_order(dout, "cnhw").transpose(1, 0, 2, 3).reshape(f, n * ohw)  # (F, N*OH*OW)
    dout_c = dout_mat.reshape(f, n, oh, ow)  # (F, N, OH, OW)
    w_mats = [W[g * fg:(g + 1) * fg].reshape(fg, kk) for g in range(groups)]  # (Fg, Cg*KH*KW)
    dxc = np.empty((c, n, h, w), dtype=x.dtype) if need_dx else None
    wino_dw = use_winograd(W, stride) if DW_WINOGRAD else None
    wino = use_winograd(W, stride) if need_dx and DX_WINOGRAD and padding < kh else None
    jobs = split(n, MAX_JOBS)

    def db_part(images):
        return dout_mat[:, images[0] * ohw:images[1] * ohw].sum(axis=1)  # (F,)

    def im2col_job(images):
        """This job's parts of dW^T per group (groups, Cg*KH*KW, Fg) and of db, from im2col
        (None when Winograd computes dW), and its part of dx where Winograd does not."""
        dw_t = np.zeros((groups, kk, fg), dtype=x.dtype) if wino_dw is None else None
        tmp = np.empty((kk, fg), dtype=x.dtype)
        for a, z in _chunks(images, c * kh * kw, ohw, x.itemsize):
            cols = _buffer((c * kh * kw, (z - a) * ohw), x.dtype)  # (C*KH*KW, L)
            if dw_t is not None:
                im2col_images(cols, xc, a, z, kh, kw, stride, padding, oh, ow)
                for g in range(groups):
                    cols_g = cols[g * kk:(g + 1) * kk]  # (Cg*KH*KW, L)
                    dout_g = dout_mat[g * fg:(g + 1) * fg, a * ohw:z * ohw]  # (Fg, L)
                    # dW_g^T = cols_g @ dout_g^T, not dW_g = dout_g @ cols_g^T: the same
                    # product, but OpenBLAS runs this orientation faster when L is long.
                    if kk * fg <= SMALL_PRODUCT:
                        acc_a_bt(dw_t[g], cols_g, dout_g)
                    else:
                        dw_t[g] += np.matmul(cols_g, dout_g.T, out=tmp)
            if need_dx and wino is None:  # cols is no longer needed: overwrite it with dcols
                for g in range(groups):
                    np.matmul(w_mats[g].T, dout_mat[g * fg:(g + 1) * fg, a * ohw:z * ohw],
                              out=cols[g * kk:(g + 1) * kk])
                col2im_images(dxc, cols, a, z, kh, kw, stride, padding, oh, ow)
        return dw_t, db_part(images)

    if wino_dw is not None:  # dW from Winograd's tiles, each job's part in its slot of parts
        parts = np.empty((len(jobs), groups, *wino_dw.POSITIONS, fg, cg), dtype=x.dtype)

        def wino_job(j):
            wino_dw.weight_gradient(parts[j], xc, dout_c, padding, groups, jobs[j],
                                    _winograd_buffers(x.dtype))
            return db_part(jobs[j])

        db_parts = run_jobs(wino_job, range(len(jobs)))
        dW = wino_dw.filter_gradient(parts)  # the parts summed in job order, then G^T . G
        if need_dx and wino is None:
            run_jobs(im2col_job, jobs)  # dx only
    else:
        results = run_jobs(im2col_job, jobs)
        dw_t, db_parts = results[0][0], [db for _, db in results]
        for part, _ in results[1:]:  # in job order: the same sums whatever thread ran which job
            dw_t += part
        dW = np.ascontiguousarray(dw_t.transpose(0, 2, 1)).reshape(f, cg, kh, kw)
    db = db_parts[0]
    for part in db_parts[1:]:  # in job order, too
        db += part
    if wino is not None:  # dx = dout (padded) correlated with the turned, transposed filters
        w_turn = np.concatenate([W[g * fg:(g + 1) * fg, :, ::-1, ::-1].transpose(1, 0, 2, 3)
                                 for g in range(groups)])  # (C, Fg, KH, KW)
        u_turn = wino.transform_filters(np.ascontiguousarray(w_turn))
        no_bias = np.zeros(c, dtype=x.dtype)
        run_jobs(lambda images: wino.winograd_conv(dxc, dout_c, u_turn, no_bias,
                                                   kh - 1 - padding, groups, images,
                                                   _winograd_buffers(x.dtype)), jobs)
    if not need_dx:
        return None, dW, db
    return dxc.transpose(1, 0, 2, 3), dW, db


class FastConv2d(Conv2d):
    """:class:`~alexnet_np.layers.Conv2d` computed by :func:`conv2d_forward_fast`."""

    def forward(self, x):
        out, self.cache = conv2d_forward_fast(x, self.params["W"], self.params["b"],
                                              self.stride, self.padding, self.groups)
        return out

    def backward(self, dout):
        dx, dW, db = conv2d_backward_fast(dout, self.cache, need_dx=self.needs_input_grad)
        self.grads["W"] = as_dtype(dW, self.params["W"].dtype)
        self.grads["b"] = as_dtype(db, self.params["b"].dtype)
        return dx
