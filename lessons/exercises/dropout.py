"""Exercise: the backward pass of Dropout.

The forward pass is given. Write ``backward`` where it says TODO (keep the class name
and the contract: ``backward(dout)`` returns dx),
then grade it::

    alexnet-np grade lessons/exercises/dropout.py

The grader checks forward against the reference, backward against finite differences
and against the reference backward, and prints a hint when something is off. Lesson
07 explains gradient checking; the lesson on this layer derives the formula.
"""

import numpy as np


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
        # TODO: return dx: the same mask and 1/(1-p) scale as forward; in eval mode dx = dout
        raise NotImplementedError("TODO: Dropout.backward")
