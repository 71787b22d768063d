"""Softmax and cross-entropy, the paper's output layer and loss (sec. 3.5, fc8 + softmax).

The network maximises the multinomial logistic regression objective, i.e. minimises the mean
cross-entropy of the softmax of the 1000 logits. Forward, for logits z (N, K) and labels y (N,)::

    p[n, k] = exp(z[n, k] - m[n]) / sum_j exp(z[n, j] - m[n]),   m[n] = max_j z[n, j]
    loss    = -(1/N) * sum_n log p[n, y[n]]
            = (1/N) * sum_n (m[n] + log sum_j exp(z[n, j] - m[n]) - z[n, y[n]])

Subtracting the row maximum m changes nothing mathematically and keeps exp() from overflowing
for logits of +-1000 (without it, exp(1000) = inf and the loss becomes nan).

Backward (the famous clean result)::

    dz[n, k] = (p[n, k] - [k == y[n]]) / N      times the upstream dloss (1 for a loss)
"""

import numpy as np

from .base import Layer, check_float


def _check_labels(logits, labels):
    check_float("SoftmaxCrossEntropy", logits)
    if logits.ndim != 2:
        raise ValueError(
            f"SoftmaxCrossEntropy: expected logits of shape (N, K), got shape {logits.shape}"
        )
    labels = np.asarray(labels)
    if labels.shape != (logits.shape[0],):
        raise ValueError(
            f"SoftmaxCrossEntropy: expected labels of shape ({logits.shape[0]},), "
            f"got shape {labels.shape}"
        )
    if labels.dtype.kind not in "iu":
        raise ValueError(
            f"SoftmaxCrossEntropy: labels must be integers, got dtype {labels.dtype}"
        )
    if labels.size and (labels.min() < 0 or labels.max() >= logits.shape[1]):
        raise ValueError(
            f"SoftmaxCrossEntropy: labels must lie in [0, {logits.shape[1] - 1}], "
            f"got values from {labels.min()} to {labels.max()}"
        )
    return labels


def log_softmax(z):
    """Row-wise ``log p`` with the max shift; (N, K) -> (N, K)."""
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def softmax(z):
    """Row-wise softmax with the max shift; (N, K) -> (N, K)."""
    return np.exp(log_softmax(z))


def softmax_xent_forward(logits, labels):
    """Mean cross-entropy of softmax(logits). Returns ``(loss, cache)``, loss a 0-d array."""
    labels = _check_labels(logits, labels)
    logp = log_softmax(logits)  # (N, K)
    n = logits.shape[0]
    loss = -logp[np.arange(n), labels].mean()
    return loss.astype(logits.dtype), (np.exp(logp), labels)


def softmax_xent_backward(dloss, cache):
    """``dlogits = dloss * (p - onehot(y)) / N``."""
    probs, labels = cache
    n = probs.shape[0]
    dz = probs.copy()
    dz[np.arange(n), labels] -= 1
    return dz * (np.asarray(dloss, dtype=probs.dtype) / n)


class SoftmaxCrossEntropy(Layer):
    """``SoftmaxCrossEntropy()``: ``forward(logits, labels)`` -> mean loss (a Python float of
    the logits' dtype); ``backward()`` -> dlogits for that loss. No parameters."""

    def forward(self, logits, labels):
        loss, self.cache = softmax_xent_forward(logits, labels)
        self.probs = self.cache[0]
        return loss.dtype.type(loss)

    def backward(self, dloss=1.0):
        return softmax_xent_backward(dloss, self.cache)
