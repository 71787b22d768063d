"""Exercise: the backward pass of Dropout.

Derived in lessons/08_dropout.py, section 1.
Write the code where it says TODO and keep the name ``Dropout`` and its signature (the
grader looks for them). Stuck? lessons/exercises/HINTS.md has a hint for each exercise.
Check your work with::

    alexnet-np grade lessons/exercises/dropout.py

This file is generated from solutions.py by make_templates.py: edit that, not this.
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
        # TASK: return dx, in training mode and in eval mode.
        raise NotImplementedError("TODO: Dropout.backward")
