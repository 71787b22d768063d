"""Exercise: the backward pass of softmax cross-entropy.

Derived in lessons/06_fc_softmax.py, section 3.
Write the code where it says TODO and keep the name ``SoftmaxCrossEntropy`` and its signature (the
grader looks for them). Stuck? lessons/exercises/HINTS.md has a hint for each exercise.
Check your work with::

    alexnet-np grade lessons/exercises/softmax_xent.py

This file is generated from solutions.py by make_templates.py: edit that, not this.
"""

import numpy as np


class SoftmaxCrossEntropy:
    """Mean cross-entropy of softmax(logits); backward() returns dlogits."""

    def __init__(self):
        self.params, self.grads, self.training = {}, {}, True

    def forward(self, logits, labels):
        z = logits - logits.max(axis=1, keepdims=True)  # the max shift: no overflow
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        self.probs, self.labels = np.exp(logp), labels
        return -logp[np.arange(len(labels)), labels].mean()

    def backward(self, dloss=1.0):
        # TASK: return dlogits, the gradient of the mean loss (times dloss) w.r.t. logits.
        raise NotImplementedError("TODO: SoftmaxCrossEntropy.backward")
