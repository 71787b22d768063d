"""Flatten: the bridge from the last pooling layer (N, 256, 6, 6) to fc6 (N, 9216).

Forward ``out = x.reshape(N, C*H*W)`` (C-order, as PyTorch's ``torch.flatten(x, 1)``);
backward ``dx = dout.reshape(x.shape)``. No arithmetic, so no approximation either way.
"""

from .base import Layer, check_float


def flatten_forward(x):
    """(N, ...) -> (N, prod(...)). Returns ``(out, cache)`` where cache is the input shape."""
    check_float("Flatten", x)
    if x.ndim < 2:
        raise ValueError(f"Flatten: expected input of shape (N, ...), got shape {x.shape}")
    return x.reshape(x.shape[0], -1), x.shape  # (N, C*H*W)


def flatten_backward(dout, cache):
    """(N, C*H*W) -> the input's shape."""
    return dout.reshape(cache)


class Flatten(Layer):
    """``Flatten()``: keep the batch axis, merge all others. No parameters."""

    def forward(self, x):
        out, self.cache = flatten_forward(x)
        return out

    def backward(self, dout):
        return flatten_backward(dout, self.cache)
