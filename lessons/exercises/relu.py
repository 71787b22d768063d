"""Exercise: the backward pass of ReLU.

Derived in lessons/00_chain_rule.py, section 7.
Write the code where it says TODO and keep the name ``ReLU`` and its signature (the
grader looks for them). Stuck? lessons/exercises/HINTS.md has a hint for each exercise.
Check your work with::

    alexnet-np grade lessons/exercises/relu.py

This file is generated from solutions.py by make_templates.py: edit that, not this.
"""

import numpy as np


class ReLU:
    """out = max(0, x), elementwise."""

    def __init__(self):
        self.params, self.grads, self.training = {}, {}, True

    def forward(self, x):
        self.x = x
        return np.maximum(x, 0)

    def backward(self, dout):
        # TASK: return dx, the gradient of the loss with respect to the input of forward().
        raise NotImplementedError("TODO: ReLU.backward")
