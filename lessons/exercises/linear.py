"""Exercise: the backward pass of Linear.

Derived in lessons/06_fc_softmax.py, section 2.
Write the code where it says TODO and keep the name ``Linear`` and its signature (the
grader looks for them). Stuck? lessons/exercises/HINTS.md has a hint for each exercise.
Check your work with::

    alexnet-np grade lessons/exercises/linear.py

This file is generated from solutions.py by make_templates.py: edit that, not this.
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
        # TASK: fill self.grads with 'W' and 'b' (summed over the batch) and return dx.
        raise NotImplementedError("TODO: Linear.backward")
