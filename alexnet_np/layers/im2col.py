"""im2col and col2im: turning a convolution into one matrix product.

A convolution slides a ``KH x KW`` window over the (padded) input. ``im2col`` lays every window
out as one row of a matrix, so that the convolution of all windows with all filters becomes a
single matrix product (the trick that let cuda-convnet and Caffe run AlexNet at BLAS speed).
``col2im`` is its adjoint: it adds every row back into the window it came from, which is exactly
what the backward pass of a convolution needs for the input gradient.

Output size (sec. 3 of the paper uses it for every layer)::

    OH = (H + 2 * padding - KH) // stride + 1
    OW = (W + 2 * padding - KW) // stride + 1

Shapes: ``x (N, C, H, W)`` -> ``cols (N, OH, OW, C, KH, KW)``; reshape the last three axes to
get the ``(N*OH*OW, C*KH*KW)`` matrix.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def conv_output_size(size, kernel, stride, padding):
    """``(size + 2 * padding - kernel) // stride + 1``: the floor rule of Caffe and PyTorch."""
    return (size + 2 * padding - kernel) // stride + 1


def pad_hw(x, padding):
    """Zero-pad the two spatial axes of an (N, C, H, W) array by ``padding`` on every side."""
    if padding == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))


def unpad_hw(x, padding):
    """Remove ``padding`` from every side of the spatial axes.

    Written with explicit end indices: the tempting ``x[..., p:-p]`` is empty when p = 0.
    """
    h, w = x.shape[2], x.shape[3]
    return x[:, :, padding:h - padding, padding:w - padding]


def im2col(xp, kh, kw, stride):
    """All ``kh x kw`` windows of a padded input, as a strided view (no copy, no loops).

    Parameters
    ----------
    xp : ndarray, shape (N, C, Hp, Wp)
        The already padded input.
    kh, kw, stride : int

    Returns
    -------
    ndarray, shape (N, OH, OW, C, KH, KW)
        ``cols[n, i, j, c, u, v] = xp[n, c, i*stride + u, j*stride + v]``. A read-only view:
        reshaping it to a matrix makes the one copy the matrix product needs.
    """
    windows = sliding_window_view(xp, (kh, kw), axis=(2, 3))  # (N, C, Hp-KH+1, Wp-KW+1, KH, KW)
    windows = windows[:, :, ::stride, ::stride]  # (N, C, OH, OW, KH, KW)
    return windows.transpose(0, 2, 3, 1, 4, 5)  # (N, OH, OW, C, KH, KW)


def col2im(dcols, xp_shape, stride):
    """The adjoint of :func:`im2col`: add each window's gradient back where it was read from.

    ``dxp[n, c, i*stride + u, j*stride + v] += dcols[n, i, j, c, u, v]`` for every window
    (i, j) and offset (u, v). Windows overlap when stride < kernel size, so the additions must
    accumulate. We loop over the KH*KW kernel offsets (121 at most for AlexNet), never over
    pixels: each offset is one strided slice-add over the whole batch.

    Parameters
    ----------
    dcols : ndarray, shape (N, OH, OW, C, KH, KW)
    xp_shape : tuple (N, C, Hp, Wp)
    stride : int

    Returns
    -------
    ndarray, shape (N, C, Hp, Wp)
    """
    n, oh, ow, c, kh, kw = dcols.shape
    dxp = np.zeros(xp_shape, dtype=dcols.dtype)
    dcols_t = dcols.transpose(0, 3, 1, 2, 4, 5)  # (N, C, OH, OW, KH, KW)
    for u in range(kh):
        for v in range(kw):
            rows = slice(u, u + stride * (oh - 1) + 1, stride)
            cols = slice(v, v + stride * (ow - 1) + 1, stride)
            dxp[:, :, rows, cols] += dcols_t[:, :, :, :, u, v]
    return dxp
