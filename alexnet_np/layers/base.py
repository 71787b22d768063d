"""The layer contract shared by every layer in :mod:`alexnet_np.layers`.

A layer is a thin object around a functional pair ``op_forward(...) -> (out, cache)`` and
``op_backward(dout, cache) -> grads``:

- ``forward(x)`` returns the output and keeps the cache for ``backward``;
- ``backward(dout)`` returns ``dx`` and fills ``self.grads`` with the same keys as
  ``self.params`` (``"W"``, ``"b"``), in PyTorch's shapes;
- ``params`` and ``grads`` are plain dicts of arrays, read afresh on every call, so an optimizer
  or a user may replace or update them in place;
- ``train()`` / ``eval()`` switch the mode (only dropout cares);
- a layer never changes its input array, and the output has the input's dtype.
"""

import numpy as np


class Layer:
    """Base class: parameters, gradients, mode and the forward/backward protocol."""

    def __init__(self):
        self.params = {}
        self.grads = {}
        self.training = True
        self.cache = None

    def forward(self, x):
        raise NotImplementedError

    def backward(self, dout):
        raise NotImplementedError

    def __call__(self, *args):
        return self.forward(*args)

    def train(self):
        """Switch to training mode (dropout drops). Returns self."""
        self.training = True
        return self

    def eval(self):
        """Switch to evaluation mode (dropout passes everything). Returns self."""
        self.training = False
        return self

    def extra_repr(self):
        return ""

    def __repr__(self):
        return f"{type(self).__name__}({self.extra_repr()})"


def check_float(name, x):
    """Raise ValueError unless ``x`` is a floating-point ndarray."""
    if not isinstance(x, np.ndarray):
        raise ValueError(f"{name}: expected a numpy array, got {type(x).__name__}")
    if x.dtype not in (np.float32, np.float64):
        raise ValueError(f"{name}: expected float32 or float64 input, got dtype {x.dtype}")


def check_nchw(name, x, channels=None):
    """Raise ValueError unless ``x`` is a float (N, C, H, W) array with ``channels`` channels."""
    check_float(name, x)
    want_c = "C" if channels is None else str(channels)
    if x.ndim != 4:
        raise ValueError(
            f"{name}: expected input of shape (N, {want_c}, H, W), got shape {x.shape}"
        )
    if channels is not None and x.shape[1] != channels:
        raise ValueError(
            f"{name}: expected input of shape (N, {want_c}, H, W), got shape {x.shape} "
            f"({x.shape[1]} channels instead of {channels})"
        )


def as_dtype(a, dtype):
    """``a`` in ``dtype`` without a copy when it already is."""
    return a.astype(dtype, copy=False)
