"""Exercise: the backward pass of Conv2d.

Derived in lessons/02_convolution.py, sections 2-4.
Write the code where it says TODO and keep the name ``Conv2d`` and its signature (the
grader looks for them). Stuck? lessons/exercises/HINTS.md has a hint for each exercise.
Check your work with::

    alexnet-np grade lessons/exercises/conv2d.py

This file is generated from solutions.py by make_templates.py: edit that, not this.
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
        # TASK: fill self.grads with 'W' and 'b' (the shapes of self.params) and return dx,
        # the gradient with respect to forward's input x (x's shape: no padding), for any
        # stride, padding and groups.
        raise NotImplementedError("TODO: Conv2d.backward")
