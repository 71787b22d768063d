"""Local response normalization across channels, exactly as the paper writes it (sec. 3.3).

Forward, at every position (n, y, x), for channel i of N channels::

    den[i] = k + alpha * sum_{j = max(0, i - n/2)}^{min(N-1, i + n/2)} a[j]^2
    b[i]   = a[i] / den[i]^beta

with the paper's n = 5 (``size``), k = 2, alpha = 1e-4, beta = 0.75, applied after the ReLU of
conv1 and conv2. For an even ``size`` the window is ``[i - size//2, i + (size-1)//2]``, as in
PyTorch.

The trap (docs/paper.md): the paper's alpha is NOT divided by n. cuda-convnet2, Caffe and PyTorch
divide alpha by ``size`` and Caffe/PyTorch default k to 1, so the paper's layer is PyTorch's
``LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2)``. This layer takes the paper's alpha.

Backward. Write ``W(i)`` for the window of channel i. ``b[i]`` depends on ``a[m]`` directly when
m = i and through ``den[i]`` when m is in W(i)::

    db[i]/da[m] = [m == i] * den[i]^-beta - 2 * alpha * beta * a[i] * a[m] * den[i]^(-beta-1)
                  * [m in W(i)]

so, with ``t[i] = dout[i] * a[i] * den[i]^(-beta-1) = dout[i] * b[i] / den[i]``::

    da[m] = dout[m] * den[m]^-beta - 2 * alpha * beta * a[m] * sum_{i : m in W(i)} t[i]

The last sum runs over the mirrored window ``[m - (size-1)//2, m + size//2]``, which equals
W(m) for odd sizes.

Shapes: x (N, C, H, W) -> out (N, C, H, W).
"""

import numpy as np

from .base import Layer, check_nchw


def window_sum_channels(a, before, after):
    """``s[:, i] = sum_{j = i - before}^{i + after} a[:, j]`` over valid channels j.

    Done with ``before + after + 1`` shifted slice-adds over a zero-padded copy: one pass per
    window offset, never a loop over channels or pixels.
    """
    c = a.shape[1]
    padded = np.pad(a, ((0, 0), (before, after), (0, 0), (0, 0)))  # (N, C+before+after, H, W)
    s = np.zeros_like(a)
    for offset in range(before + after + 1):
        s += padded[:, offset:offset + c]
    return s


def lrn_forward(x, size=5, alpha=1e-4, beta=0.75, k=2.0):
    """Paper LRN. Returns ``(out, cache)``; see the module docstring for the formula."""
    check_nchw("LocalResponseNorm", x)
    before, after = size // 2, (size - 1) // 2
    den = k + alpha * window_sum_channels(x * x, before, after)  # (N, C, H, W)
    out = x * den ** (-beta)
    return out, (x, out, den, size, alpha, beta)


def lrn_backward(dout, cache):
    """``dx`` of :func:`lrn_forward`; see the module docstring for the derivation."""
    x, out, den, size, alpha, beta = cache
    t = dout * out / den  # dout[i] * a[i] * den[i]^(-beta-1)
    before, after = size // 2, (size - 1) // 2
    back = window_sum_channels(t, after, before)  # the mirrored window
    return dout * den ** (-beta) - 2 * alpha * beta * x * back


def lrn_forward_naive(x, size=5, alpha=1e-4, beta=0.75, k=2.0):
    """The oracle: the paper's sum written as a loop over channels. Returns ``(out, cache)``."""
    check_nchw("LocalResponseNorm", x)
    n_ch = x.shape[1]
    out = np.empty_like(x)
    for i in range(n_ch):
        lo, hi = max(0, i - size // 2), min(n_ch - 1, i + (size - 1) // 2)
        den = k + alpha * np.sum(x[:, lo:hi + 1] ** 2, axis=1)
        out[:, i] = x[:, i] / den ** beta
    return out, (x, size, alpha, beta, k)


def lrn_backward_naive(dout, cache):
    """The oracle backward: the full Jacobian-vector product, channel pair by channel pair."""
    x, size, alpha, beta, k = cache
    n_ch = x.shape[1]
    dx = np.zeros_like(x)
    for i in range(n_ch):
        lo, hi = max(0, i - size // 2), min(n_ch - 1, i + (size - 1) // 2)
        den = k + alpha * np.sum(x[:, lo:hi + 1] ** 2, axis=1)
        dx[:, i] += dout[:, i] * den ** (-beta)
        for m in range(lo, hi + 1):
            dx[:, m] -= dout[:, i] * 2 * alpha * beta * x[:, i] * x[:, m] * den ** (-beta - 1)
    return dx


class LocalResponseNorm(Layer):
    """``LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=2.0)``: the paper's formula.

    Unlike ``torch.nn.LocalResponseNorm`` (and Caffe), alpha is not divided by ``size`` and k
    defaults to 2: ``LocalResponseNorm(5, 1e-4, 0.75, 2)`` here equals PyTorch's
    ``LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2)``. No parameters.
    """

    def __init__(self, size=5, alpha=1e-4, beta=0.75, k=2.0):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, x):
        out, self.cache = lrn_forward(x, self.size, self.alpha, self.beta, self.k)
        return out

    def backward(self, dout):
        return lrn_backward(dout, self.cache)

    def extra_repr(self):
        return f"size={self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
