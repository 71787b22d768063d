"""Dropout, on the outputs of fc6 and fc7 (sec. 4.2, p = 0.5).

The paper zeroes each unit with probability p during training and multiplies all outputs by
(1 - p) = 0.5 at test time. We use the equivalent "inverted" form, which keeps the test-time
network untouched: in training::

    mask[i] ~ Bernoulli(1 - p)        (drawn from the Generator passed in)
    out = x * mask / (1 - p)          so E[out] = x
    dx  = dout * mask / (1 - p)

and in evaluation ``out = x``, ``dx = dout``. With p = 1 everything is dropped (out = 0).

Shapes: any; out has the shape and dtype of x.
"""

import numpy as np

from .base import Layer, check_float


def dropout_forward(x, p, rng, training=True):
    """Inverted dropout. Returns ``(out, cache)``; the cache is the scaled mask (or None)."""
    check_float("Dropout", x)
    if not training or p == 0:
        return x.copy(), None
    if p >= 1:
        return np.zeros_like(x), np.zeros_like(x)
    keep = rng.random(x.shape) >= p
    scaled_mask = keep.astype(x.dtype) / x.dtype.type(1 - p)
    return x * scaled_mask, scaled_mask


def dropout_backward(dout, cache):
    """``dx = dout * mask / (1 - p)``, or ``dout`` when nothing was dropped."""
    scaled_mask = cache
    return dout.copy() if scaled_mask is None else dout * scaled_mask


class Dropout(Layer):
    """``Dropout(p=0.5, rng=None)``: zeroes units with probability p in training mode only.

    ``rng`` is the ``numpy.random.Generator`` the masks come from (never global state).
    """

    def __init__(self, p=0.5, rng=None):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"Dropout: p must be between 0 and 1, got {p}")
        self.p = p
        self.rng = np.random.default_rng(0) if rng is None else rng

    def forward(self, x):
        out, self.cache = dropout_forward(x, self.p, self.rng, self.training)
        return out

    def backward(self, dout):
        return dropout_backward(dout, self.cache)

    def extra_repr(self):
        return f"p={self.p}"
