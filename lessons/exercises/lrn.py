"""Exercise: the backward pass of LocalResponseNorm.

The forward pass is given. Write ``backward`` where it says TODO (keep the class name
and the contract: ``backward(dout)`` returns dx),
then grade it::

    alexnet-np grade lessons/exercises/lrn.py

The grader checks forward against the reference, backward against finite differences
and against the reference backward, and prints a hint when something is off. Lesson
07 explains gradient checking; the lesson on this layer derives the formula.
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
        # TODO: return dx. Two terms: dout[m] * den[m]^-beta, minus
        # 2 * alpha * beta * a[m] * (sum over the windows i that contain m of
        # dout[i] * a[i] * den[i]^(-beta-1))
        raise NotImplementedError("TODO: LocalResponseNorm.backward")
