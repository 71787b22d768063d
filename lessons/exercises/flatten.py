"""Exercise: the backward pass of Flatten.

The forward pass is given. Write ``backward`` where it says TODO (keep the class name
and the contract: ``backward(dout)`` returns dx),
then grade it::

    alexnet-np grade lessons/exercises/flatten.py

The grader checks forward against the reference, backward against finite differences
and against the reference backward, and prints a hint when something is off. Lesson
07 explains gradient checking; the lesson on this layer derives the formula.
"""

import numpy as np  # noqa: F401 - you will want it


class Flatten:
    """(N, C, H, W) -> (N, C*H*W)."""

    def __init__(self):
        self.params, self.grads, self.training = {}, {}, True

    def forward(self, x):
        self.shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dout):
        # TODO: return dout reshaped to the input's shape
        raise NotImplementedError("TODO: Flatten.backward")
