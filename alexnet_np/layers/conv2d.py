"""2-D convolution (cross-correlation, as in every deep-learning library), with groups.

Paper, sec. 3 and Fig. 2: AlexNet's five convolutional layers. ``groups=2`` is the paper's
two-GPU split: conv2, conv4 and conv5 only see the kernel maps that live on their own GPU, so
input channels and filters are cut into two halves and each half is convolved on its own.

Forward (for group g, filter f of that group, output position (i, j))::

    out[n, f, i, j] = b[f] + sum_{c in group g, u, v} W[f, c - c0(g), u, v]
                                                      * xp[n, c, i*s + u, j*s + v]

where ``xp`` is the input zero-padded by ``padding`` and ``s`` the stride.

Backward, given ``dout = dL/dout`` (derived by the chain rule from the line above)::

    db[f]          = sum_{n, i, j} dout[n, f, i, j]
    dW[f, c, u, v] = sum_{n, i, j} dout[n, f, i, j] * xp[n, c, i*s + u, j*s + v]
    dxp[n, c, y, x] = sum_{f in group of c} sum_{(i, u): i*s+u = y} sum_{(j, v): j*s+v = x}
                          dout[n, f, i, j] * W[f, c - c0, u, v]
    dx = dxp without its padding

With im2col (see ``im2col.py``) each group is one matrix product forward and two backward:
``out = cols @ W^T``, ``dW = dout^T @ cols``, ``dcols = dout @ W`` followed by ``col2im``.

Shapes: x (N, C, H, W), W (F, C/groups, KH, KW), b (F,), out (N, F, OH, OW) with
``OH = (H + 2p - KH) // s + 1`` and ``OW = (W + 2p - KW) // s + 1``.
"""

import numpy as np

from .base import Layer, as_dtype, check_nchw
from .im2col import col2im, conv_output_size, im2col, pad_hw, unpad_hw


def _check_conv(x, W, stride, padding, groups, name="Conv2d"):
    f, cg, kh, kw = W.shape
    check_nchw(name, x, channels=cg * groups)
    hp, wp = x.shape[2] + 2 * padding, x.shape[3] + 2 * padding
    if kh > hp or kw > wp:
        raise ValueError(
            f"{name}: kernel {kh}x{kw} is larger than the padded input {hp}x{wp} "
            f"(input shape {x.shape}, padding {padding}); use a larger input or more padding"
        )
    if f % groups:
        raise ValueError(f"{name}: {f} filters cannot be split into {groups} groups")


def conv2d_forward(x, W, b, stride=1, padding=0, groups=1):
    """Grouped 2-D convolution by im2col and one matrix product per group.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    W : ndarray, shape (F, C // groups, KH, KW)
    b : ndarray, shape (F,)
    stride, padding, groups : int

    Returns
    -------
    out : ndarray, shape (N, F, OH, OW), dtype of x
    cache : tuple for :func:`conv2d_backward`
    """
    _check_conv(x, W, stride, padding, groups)
    W, b = as_dtype(W, x.dtype), as_dtype(b, x.dtype)
    n, c, h, w = x.shape
    f, cg, kh, kw = W.shape
    fg = f // groups
    oh = conv_output_size(h, kh, stride, padding)
    ow = conv_output_size(w, kw, stride, padding)

    xp = pad_hw(x, padding)  # (N, C, Hp, Wp)
    windows = im2col(xp, kh, kw, stride)  # (N, OH, OW, C, KH, KW), a view
    out = np.empty((n, oh, ow, f), dtype=x.dtype)  # channels last while we fill it
    cols_per_group = []
    for g in range(groups):
        cols = windows[:, :, :, g * cg:(g + 1) * cg]  # (N, OH, OW, Cg, KH, KW)
        cols = cols.reshape(n * oh * ow, cg * kh * kw)  # (N*OH*OW, Cg*KH*KW), a copy
        w_mat = W[g * fg:(g + 1) * fg].reshape(fg, cg * kh * kw)  # (Fg, Cg*KH*KW)
        out[..., g * fg:(g + 1) * fg] = (cols @ w_mat.T).reshape(n, oh, ow, fg)
        cols_per_group.append(cols)
    out += b
    out = out.transpose(0, 3, 1, 2)  # (N, F, OH, OW)
    cache = (xp.shape, cols_per_group, W, stride, padding, groups)
    return np.ascontiguousarray(out), cache


def conv2d_backward(dout, cache):
    """Gradients of :func:`conv2d_forward`.

    Parameters
    ----------
    dout : ndarray, shape (N, F, OH, OW)
    cache : from :func:`conv2d_forward`

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    dW : ndarray, shape (F, C // groups, KH, KW)
    db : ndarray, shape (F,)
    """
    xp_shape, cols_per_group, W, stride, padding, groups = cache
    n, f, oh, ow = dout.shape
    _, cg, kh, kw = W.shape
    fg = f // groups
    dout_rows = dout.transpose(0, 2, 3, 1).reshape(n * oh * ow, f)  # (N*OH*OW, F)

    db = dout.sum(axis=(0, 2, 3))
    dW = np.empty_like(W)
    dcols = np.empty((n, oh, ow, groups * cg, kh, kw), dtype=dout.dtype)
    for g, cols in enumerate(cols_per_group):
        d_g = dout_rows[:, g * fg:(g + 1) * fg]  # (N*OH*OW, Fg)
        w_mat = W[g * fg:(g + 1) * fg].reshape(fg, cg * kh * kw)  # (Fg, Cg*KH*KW)
        dW[g * fg:(g + 1) * fg] = (d_g.T @ cols).reshape(fg, cg, kh, kw)
        dcols_g = (d_g @ w_mat).reshape(n, oh, ow, cg, kh, kw)  # (N, OH, OW, Cg, KH, KW)
        dcols[:, :, :, g * cg:(g + 1) * cg] = dcols_g
    dxp = col2im(dcols, xp_shape, stride)  # (N, C, Hp, Wp)
    dx = unpad_hw(dxp, padding)  # (N, C, H, W)
    return np.ascontiguousarray(dx), dW, db


def conv2d_forward_naive(x, W, b, stride=1, padding=0, groups=1):
    """The oracle: the forward formula in the module docstring, written as plain loops.

    Slow (a Python loop per output element); kept forever to test the fast version against.
    Returns ``(out, cache)`` like :func:`conv2d_forward`.
    """
    _check_conv(x, W, stride, padding, groups)
    n, c, h, w = x.shape
    f, cg, kh, kw = W.shape
    fg = f // groups
    oh = conv_output_size(h, kh, stride, padding)
    ow = conv_output_size(w, kw, stride, padding)
    xp = pad_hw(x, padding)
    out = np.zeros((n, f, oh, ow), dtype=x.dtype)
    for i_n in range(n):
        for i_f in range(f):
            g = i_f // fg
            for i in range(oh):
                for j in range(ow):
                    window = xp[i_n, g * cg:(g + 1) * cg,
                                i * stride:i * stride + kh, j * stride:j * stride + kw]
                    out[i_n, i_f, i, j] = np.sum(window * W[i_f]) + b[i_f]
    return out, (x, W, stride, padding, groups)


def conv2d_backward_naive(dout, cache):
    """The oracle backward: each output element sends its gradient back through its window.

    Returns ``(dx, dW, db)`` like :func:`conv2d_backward`.
    """
    x, W, stride, padding, groups = cache
    n, f, oh, ow = dout.shape
    _, cg, kh, kw = W.shape
    fg = f // groups
    xp = pad_hw(x, padding)
    dxp = np.zeros_like(xp)
    dW = np.zeros_like(W)
    db = np.zeros(f, dtype=W.dtype)
    for i_n in range(n):
        for i_f in range(f):
            g = i_f // fg
            for i in range(oh):
                for j in range(ow):
                    rows = slice(i * stride, i * stride + kh)
                    cols = slice(j * stride, j * stride + kw)
                    d = dout[i_n, i_f, i, j]
                    db[i_f] += d
                    dW[i_f] += d * xp[i_n, g * cg:(g + 1) * cg, rows, cols]
                    dxp[i_n, g * cg:(g + 1) * cg, rows, cols] += d * W[i_f]
    return unpad_hw(dxp, padding), dW, db


class Conv2d(Layer):
    """``Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0, groups=1)``.

    Parameters ``W (out_channels, in_channels // groups, kernel_size, kernel_size)`` and
    ``b (out_channels,)``, initialised from N(0, 0.01^2) and 0 (the paper's sec. 5; the model
    sets the biases it wants to 1). ``rng`` is a ``numpy.random.Generator``.

    ``needs_input_grad`` (default True): when False, ``backward`` fills ``grads`` and returns
    None instead of dx. The model sets it on conv1, whose input gradient nothing needs.
    """

    needs_input_grad = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, groups=1,
                 rng=None, dtype=np.float32, std=0.01):
        super().__init__()
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"Conv2d: in_channels ({in_channels}) and out_channels ({out_channels}) must "
                f"both be divisible by groups ({groups})"
            )
        rng = np.random.default_rng(0) if rng is None else rng
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.groups = groups
        shape = (out_channels, in_channels // groups, kernel_size, kernel_size)
        # std=0 leaves the weights at zero for a caller that initialises them itself
        self.params["W"] = ((rng.standard_normal(shape) * std).astype(dtype) if std
                            else np.zeros(shape, dtype=dtype))
        self.params["b"] = np.zeros(out_channels, dtype=dtype)

    def forward(self, x):
        out, self.cache = conv2d_forward(x, self.params["W"], self.params["b"],
                                         self.stride, self.padding, self.groups)
        return out

    def backward(self, dout):
        dx, dW, db = conv2d_backward(dout, self.cache)
        self.grads["W"] = as_dtype(dW, self.params["W"].dtype)
        self.grads["b"] = as_dtype(db, self.params["b"].dtype)
        return dx if self.needs_input_grad else None

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}, groups={self.groups}")
