"""Exercise: the backward pass of Linear.

The forward pass is given. Write ``backward`` where it says TODO (keep the class name
and the contract: ``backward(dout)`` returns dx and fills self.grads),
then grade it::

    alexnet-np grade lessons/exercises/linear.py

The grader checks forward against the reference, backward against finite differences
and against the reference backward, and prints a hint when something is off. Lesson
07 explains gradient checking; the lesson on this layer derives the formula.
"""

import numpy as np


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
        # TODO: fill self.grads = {'W': dW, 'b': db} (summed over the batch) and return dx
        raise NotImplementedError("TODO: Linear.backward")
