"""Fully connected layer: fc6, fc7 and fc8 of the paper (sec. 3.5, Fig. 2).

Forward::

    out[n, o] = sum_i x[n, i] * W[o, i] + b[o]        i.e.  out = x @ W^T + b

Backward::

    dx = dout @ W          (N, in)
    dW = dout^T @ x        (out, in)   - summed over the whole batch
    db = sum_n dout[n]     (out,)

Shapes: x (N, in_features), W (out_features, in_features) as in PyTorch, b (out_features,),
out (N, out_features).
"""

import numpy as np

from .base import Layer, as_dtype, check_float


def check_linear_input(x, W):
    """Raise ValueError unless ``x`` is a float batch (N, in_features) that fits ``W``."""
    check_float("Linear", x)
    if x.ndim != 2 or x.shape[1] != W.shape[1]:
        raise ValueError(
            f"Linear: expected input of shape (N, {W.shape[1]}), got shape {x.shape}"
        )


def linear_forward(x, W, b):
    """``out = x @ W.T + b``. Returns ``(out, cache)``."""
    check_linear_input(x, W)
    W, b = as_dtype(W, x.dtype), as_dtype(b, x.dtype)
    out = x @ W.T + b  # (N, out)
    return out, (x, W)


def linear_backward(dout, cache):
    """Returns ``(dx, dW, db)``."""
    x, W = cache
    dx = dout @ W  # (N, in)
    dW = dout.T @ x  # (out, in)
    db = dout.sum(axis=0)  # (out,)
    return dx, dW, db


class Linear(Layer):
    """``Linear(in_features, out_features)``, weights from N(0, 0.01^2), biases 0 (sec. 5)."""

    def __init__(self, in_features, out_features, rng=None, dtype=np.float32, std=0.01):
        super().__init__()
        rng = np.random.default_rng(0) if rng is None else rng
        self.in_features, self.out_features = in_features, out_features
        shape = (out_features, in_features)
        # std=0 leaves the weights at zero for a caller that initialises them itself
        self.params["W"] = ((rng.standard_normal(shape) * std).astype(dtype) if std
                            else np.zeros(shape, dtype=dtype))
        self.params["b"] = np.zeros(out_features, dtype=dtype)

    def forward(self, x):
        out, self.cache = linear_forward(x, self.params["W"], self.params["b"])
        return out

    def backward(self, dout):
        dx, dW, db = linear_backward(dout, self.cache)
        self.grads["W"] = as_dtype(dW, self.params["W"].dtype)
        self.grads["b"] = as_dtype(db, self.params["b"].dtype)
        return dx

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}"
