"""Exercise: the backward pass of ReLU.

The forward pass is given. Write ``backward`` where it says TODO (keep the class name
and the contract: ``backward(dout)`` returns dx),
then grade it::

    alexnet-np grade lessons/exercises/relu.py

The grader checks forward against the reference, backward against finite differences
and against the reference backward, and prints a hint when something is off. Lesson
07 explains gradient checking; the lesson on this layer derives the formula.
"""

import numpy as np


class ReLU:
    """out = max(0, x); dx = dout where x > 0, else 0."""

    def __init__(self):
        self.params, self.grads, self.training = {}, {}, True

    def forward(self, x):
        self.x = x
        return np.maximum(x, 0)

    def backward(self, dout):
        # TODO: return dx, shape of dout: dout where the input was > 0, else 0
        raise NotImplementedError("TODO: ReLU.backward")
