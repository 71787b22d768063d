"""Exercise: the backward pass of MaxPool2d.

The forward pass is given. Write ``backward`` where it says TODO (keep the class name
and the contract: ``backward(dout)`` returns dx),
then grade it::

    alexnet-np grade lessons/exercises/maxpool2d.py

The grader checks forward against the reference, backward against finite differences
and against the reference backward, and prints a hint when something is off. Lesson
07 explains gradient checking; the lesson on this layer derives the formula.
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
        # TODO: return dx: each window's dout goes to the position of its maximum.
        # Windows overlap when stride < kernel_size: ADD (+=), do not assign
        raise NotImplementedError("TODO: MaxPool2d.backward")
