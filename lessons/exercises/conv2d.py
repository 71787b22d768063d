"""Exercise: the backward pass of Conv2d.

The forward pass is given. Write ``backward`` where it says TODO (keep the class name
and the contract: ``backward(dout)`` returns dx and fills self.grads),
then grade it::

    alexnet-np grade lessons/exercises/conv2d.py

The grader checks forward against the reference, backward against finite differences
and against the reference backward, and prints a hint when something is off. Lesson
07 explains gradient checking; the lesson on this layer derives the formula.
"""

import numpy as np


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
        # TODO: fill self.grads = {'W': dW, 'b': db} and return dx (the input's shape, no padding).
        # dW and db SUM over every image of the batch; dx accumulates where windows overlap;
        # groups: each group's filters only touch their own input channels
        raise NotImplementedError("TODO: Conv2d.backward")
