"""Exercise: the backward pass of Flatten.

Derived in lessons/06_fc_softmax.py, section 1.
Write the code where it says TODO and keep the name ``Flatten`` and its signature (the
grader looks for them). Stuck? lessons/exercises/HINTS.md has a hint for each exercise.
Check your work with::

    alexnet-np grade lessons/exercises/flatten.py

This file is generated from solutions.py by make_templates.py: edit that, not this.
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
        # TASK: return dx, the gradient with respect to forward's input.
        raise NotImplementedError("TODO: Flatten.backward")
