"""Solutions to the exercises: every layer class the grader knows, and two functions.

Written independently of ``alexnet_np.layers`` (loops where they read best), with the same
names and contract, so ``alexnet-np grade lessons/exercises/solutions.py`` passes everything.
Instructors: do not hand this file out. The student templates (``relu.py``, ``conv2d.py``...)
are generated from this file by ``python lessons/exercises/make_templates.py``: the code
between the SOLUTION markers becomes a ``NotImplementedError("TODO: ...")``, the TASK comment
above it stays. Edit this file, then regenerate (a test keeps the two in sync).
"""

import numpy as np


class ReLU:
    """out = max(0, x), elementwise."""

    def __init__(self):
        self.params, self.grads, self.training = {}, {}, True

    def forward(self, x):
        self.x = x
        return np.maximum(x, 0)

    def backward(self, dout):
        # TASK: return dx, the gradient of the loss with respect to the input of forward().
        # BEGIN SOLUTION
        return dout * (self.x > 0)
        # END SOLUTION


class Conv2d:
    """Grouped 2-D cross-correlation. W (F, C/groups, K, K), b (F,)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, groups=1):
        self.stride, self.padding, self.groups = stride, padding, groups
        rng = np.random.default_rng(0)
        shape = (out_channels, in_channels // groups, kernel_size, kernel_size)
        self.params = {"W": rng.standard_normal(shape) * 0.01, "b": np.zeros(out_channels)}
        self.grads, self.training = {}, True

    def forward(self, x):
        W, b, s, p, g = self.params["W"], self.params["b"], self.stride, self.padding, self.groups
        f, cg, k, _ = W.shape
        n, _, h, w = x.shape
        xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))  # (N, C, H+2p, W+2p)
        oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
        out = np.zeros((n, f, oh, ow))
        fg = f // g
        for i in range(oh):
            for j in range(ow):
                for grp in range(g):
                    win = xp[:, grp * cg:(grp + 1) * cg, i * s:i * s + k, j * s:j * s + k]
                    w_g = W[grp * fg:(grp + 1) * fg]  # (Fg, Cg, K, K)
                    out[:, grp * fg:(grp + 1) * fg, i, j] = np.einsum("nckl,fckl->nf", win, w_g)
        self.xp = xp
        return out + b[None, :, None, None]

    def backward(self, dout):
        # TASK: fill self.grads with 'W' and 'b' (the shapes of self.params) and return dx,
        # the gradient with respect to forward's input x (x's shape: no padding), for any
        # stride, padding and groups.
        # BEGIN SOLUTION
        W, s, p, g, xp = self.params["W"], self.stride, self.padding, self.groups, self.xp
        f, cg, k, _ = W.shape
        fg = f // g
        dxp = np.zeros_like(xp)
        dW = np.zeros_like(W)
        for i in range(dout.shape[2]):
            for j in range(dout.shape[3]):
                for grp in range(g):
                    fs, cs = slice(grp * fg, (grp + 1) * fg), slice(grp * cg, (grp + 1) * cg)
                    win = xp[:, cs, i * s:i * s + k, j * s:j * s + k]  # (N, Cg, K, K)
                    d = dout[:, fs, i, j]  # (N, Fg)
                    dW[fs] += np.einsum("nf,nckl->fckl", d, win)  # summed over the batch
                    dxp[:, cs, i * s:i * s + k, j * s:j * s + k] += np.einsum(
                        "nf,fckl->nckl", d, W[fs])
        self.grads = {"W": dW, "b": dout.sum(axis=(0, 2, 3))}
        h, w = dxp.shape[2], dxp.shape[3]
        return dxp[:, :, p:h - p, p:w - p]
        # END SOLUTION


class MaxPool2d:
    """Max over K x K windows at stride s (overlapping when s < K)."""

    def __init__(self, kernel_size, stride=None):
        self.k, self.s = kernel_size, stride or kernel_size
        self.params, self.grads, self.training = {}, {}, True

    def forward(self, x):
        k, s = self.k, self.s
        n, c, h, w = x.shape
        oh, ow = (h - k) // s + 1, (w - k) // s + 1
        out = np.empty((n, c, oh, ow))
        for i in range(oh):
            for j in range(ow):
                out[:, :, i, j] = x[:, :, i * s:i * s + k, j * s:j * s + k].max(axis=(2, 3))
        self.x = x
        return out

    def backward(self, dout):
        # TASK: return dx, the gradient with respect to forward's input (any stride, also
        # stride < kernel_size, where windows overlap).
        # BEGIN SOLUTION
        k, s, x = self.k, self.s, self.x
        dx = np.zeros_like(x)
        for i in range(dout.shape[2]):
            for j in range(dout.shape[3]):
                win = x[:, :, i * s:i * s + k, j * s:j * s + k]  # (N, C, K, K)
                mask = win == win.max(axis=(2, 3), keepdims=True)
                dx[:, :, i * s:i * s + k, j * s:j * s + k] += mask * dout[:, :, i, j, None, None]
        return dx
        # END SOLUTION


class LocalResponseNorm:
    """The paper's LRN: b[i] = a[i] / (k + alpha * sum_{j in window(i)} a[j]^2) ** beta."""

    def __init__(self, size=5, alpha=1e-4, beta=0.75, k=2.0):
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k
        self.params, self.grads, self.training = {}, {}, True

    def forward(self, x):
        c, half = x.shape[1], self.size // 2
        den = np.empty_like(x)
        for i in range(c):
            lo, hi = max(0, i - half), min(c - 1, i + half)
            den[:, i] = self.k + self.alpha * np.sum(x[:, lo:hi + 1] ** 2, axis=1)
        self.x, self.den = x, den
        return x / den ** self.beta

    def backward(self, dout):
        # TASK: return dx, the gradient with respect to forward's input x.
        # BEGIN SOLUTION
        x, den, a, b = self.x, self.den, self.alpha, self.beta
        c, half = x.shape[1], self.size // 2
        t = dout * x * den ** (-b - 1)  # (N, C, H, W)
        dx = dout * den ** (-b)
        for m in range(c):
            lo, hi = max(0, m - half), min(c - 1, m + half)  # windows i that contain m
            dx[:, m] -= 2 * a * b * x[:, m] * t[:, lo:hi + 1].sum(axis=1)
        return dx
        # END SOLUTION


class Linear:
    """out = x @ W.T + b with W (out_features, in_features)."""

    def __init__(self, in_features, out_features):
        rng = np.random.default_rng(0)
        self.params = {"W": rng.standard_normal((out_features, in_features)) * 0.01,
                       "b": np.zeros(out_features)}
        self.grads, self.training = {}, True

    def forward(self, x):
        self.x = x
        return x @ self.params["W"].T + self.params["b"]

    def backward(self, dout):
        # TASK: fill self.grads with 'W' and 'b' (summed over the batch) and return dx.
        # BEGIN SOLUTION
        self.grads = {"W": dout.T @ self.x, "b": dout.sum(axis=0)}
        return dout @ self.params["W"]
        # END SOLUTION


class Dropout:
    """Inverted dropout: in training out = x * mask / (1 - p); in eval out = x."""

    def __init__(self, p=0.5, rng=None):
        self.p, self.rng = p, rng if rng is not None else np.random.default_rng(0)
        self.params, self.grads, self.training = {}, {}, True

    def train(self):
        self.training = True
        return self

    def eval(self):
        self.training = False
        return self

    def forward(self, x):
        if not self.training:
            self.mask = None
            return x.copy()
        self.mask = (self.rng.random(x.shape) >= self.p) / (1 - self.p)
        return x * self.mask

    def backward(self, dout):
        # TASK: return dx, in training mode and in eval mode.
        # BEGIN SOLUTION
        return dout.copy() if self.mask is None else dout * self.mask
        # END SOLUTION


class Flatten:
    """(N, C, H, W) -> (N, C*H*W)."""

    def __init__(self):
        self.params, self.grads, self.training = {}, {}, True

    def forward(self, x):
        self.shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dout):
        # TASK: return dx, the gradient with respect to forward's input.
        # BEGIN SOLUTION
        return dout.reshape(self.shape)
        # END SOLUTION


class SoftmaxCrossEntropy:
    """Mean cross-entropy of softmax(logits); backward() returns dlogits."""

    def __init__(self):
        self.params, self.grads, self.training = {}, {}, True

    def forward(self, logits, labels):
        z = logits - logits.max(axis=1, keepdims=True)  # the max shift: no overflow
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        self.probs, self.labels = np.exp(logp), labels
        return -logp[np.arange(len(labels)), labels].mean()

    def backward(self, dloss=1.0):
        # TASK: return dlogits, the gradient of the mean loss (times dloss) w.r.t. logits.
        # BEGIN SOLUTION
        n = len(self.labels)
        d = self.probs.copy()
        d[np.arange(n), self.labels] -= 1
        return d * dloss / n
        # END SOLUTION


def conv2d_forward_loops(x, W, b, stride=1, padding=0, groups=1):
    """Grouped 2-D convolution (cross-correlation) with plain loops: the definition.

    x (N, C, H, W), W (F, C // groups, KH, KW), b (F,) -> out (N, F, OH, OW) with
    OH = (H + 2 * padding - KH) // stride + 1 (and the same for OW). Filters
    ``g * F/groups .. (g+1) * F/groups - 1`` see input channels ``g * C/groups ..``.
    """
    # TASK: return the output of the convolution, as alexnet_np.layers.conv2d_forward would
    # (same shape, same numbers), using explicit loops over the output positions.
    # BEGIN SOLUTION
    n, c, h, w = x.shape
    f, cg, kh, kw = W.shape
    fg = f // groups  # filters per group; group g holds filters g*fg.. and channels g*cg..
    xp = np.zeros((n, c, h + 2 * padding, w + 2 * padding), dtype=x.dtype)
    xp[:, :, padding:padding + h, padding:padding + w] = x  # (N, C, H+2p, W+2p)
    oh, ow = (h + 2 * padding - kh) // stride + 1, (w + 2 * padding - kw) // stride + 1
    out = np.zeros((n, f, oh, ow), dtype=x.dtype)
    for i_n in range(n):
        for i_f in range(f):
            c0 = (i_f // fg) * cg  # first input channel of this filter's group
            for i in range(oh):
                for j in range(ow):
                    acc = b[i_f]
                    for cc in range(cg):
                        for u in range(kh):
                            for v in range(kw):
                                acc += W[i_f, cc, u, v] * xp[i_n, c0 + cc, i * stride + u,
                                                             j * stride + v]
                    out[i_n, i_f, i, j] = acc
    return out
    # END SOLUTION


def col2im(dcols, xp_shape, stride):
    """The adjoint of im2col, with the signature and layout of alexnet_np.layers.im2col.

    dcols (N, OH, OW, C, KH, KW): the gradient of every window, where window (i, j) was read
    from ``xp[n, c, i*stride + u, j*stride + v]`` for u < KH, v < KW. xp_shape (N, C, Hp, Wp)
    is the shape of the (padded) input. Returns dxp with shape xp_shape.
    """
    # TASK: return dxp, the gradient with respect to the padded input: every entry of dcols
    # goes back to the element of xp that the window read (windows may overlap).
    # BEGIN SOLUTION
    n, oh, ow, c, kh, kw = dcols.shape
    dxp = np.zeros(xp_shape, dtype=dcols.dtype)
    for i in range(oh):
        for j in range(ow):
            rows, cols = slice(i * stride, i * stride + kh), slice(j * stride, j * stride + kw)
            dxp[:, :, rows, cols] += dcols[:, i, j]  # (N, C, KH, KW) added into its window
    return dxp
    # END SOLUTION
