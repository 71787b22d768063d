"""Exercise: the backward pass of the paper's LRN.

Derived in lessons/04_lrn.py, section 2.
Write the code where it says TODO and keep the name ``LocalResponseNorm`` and its signature (the
grader looks for them). Stuck? lessons/exercises/HINTS.md has a hint for each exercise.
Check your work with::

    alexnet-np grade lessons/exercises/lrn.py

This file is generated from solutions.py by make_templates.py: edit that, not this.
"""

import numpy as np


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
        raise NotImplementedError("TODO: LocalResponseNorm.backward")
