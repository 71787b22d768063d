"""Exercise: the backward pass of (overlapping) max-pooling.

Derived in lessons/05_max_pooling.py, section 1.
Write the code where it says TODO and keep the name ``MaxPool2d`` and its signature (the
grader looks for them). Stuck? lessons/exercises/HINTS.md has a hint for each exercise.
Check your work with::

    alexnet-np grade lessons/exercises/maxpool2d.py

This file is generated from solutions.py by make_templates.py: edit that, not this.
"""

import numpy as np


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
        raise NotImplementedError("TODO: MaxPool2d.backward")
