"""Memory layouts of the fast path.

Every layer still takes and returns arrays of SHAPE (N, C, H, W), as the layer contract says.
What the fast layers choose is the MEMORY ORDER behind that shape. A convolution computes::

    out (F, N*OH*OW) = W (F, C*KH*KW) @ cols (C*KH*KW, N*OH*OW)

one matrix product for the whole batch, whose result is laid out channel-major: (C, N, H, W)
in memory, "CNHW". Returning ``out.transpose(1, 0, 2, 3)`` gives the (N, C, H, W) shape with
no copy. (cuda-convnet, which trained the original AlexNet, kept its activations channel-major
with the batch innermost for the same reason.) The next ReLU, LRN and pooling layers work on
whichever of the two orders they are given and keep it, and the next convolution reads CNHW
directly, so the trunk of the network never transposes an activation. Flatten (before fc6)
makes the one (small) NCHW copy.

``planes`` / ``from_planes`` express both orders as a stack of contiguous (H, W) planes, which
is all that pooling needs; ``channels_view`` gives (B, C, P) with P contiguous, all that LRN needs.
"""

import numpy as np


def order_of(a):
    """``"nchw"`` if the (N, C, H, W) array ``a`` is C-contiguous, ``"cnhw"`` if its
    (C, N, H, W) transpose is, else None (any other strides)."""
    if a.flags.c_contiguous:
        return "nchw"
    if a.transpose(1, 0, 2, 3).flags.c_contiguous:
        return "cnhw"
    return None


def in_order(a, order):
    """``a`` (N, C, H, W) with the memory order ``order``: no copy when it already has it."""
    if order == "nchw":
        return np.ascontiguousarray(a)
    return np.ascontiguousarray(a.transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3)


def empty(shape, dtype, order):
    """An uninitialised (N, C, H, W) array with memory order ``order``."""
    n, c, h, w = shape
    if order == "nchw":
        return np.empty(shape, dtype=dtype)
    return np.empty((c, n, h, w), dtype=dtype).transpose(1, 0, 2, 3)


def planes(a):
    """The (B, H, W) contiguous planes behind a C-contiguous NCHW or CNHW array (a view)."""
    n, c, h, w = a.shape
    if order_of(a) == "nchw":
        return a.reshape(n * c, h, w)
    return a.transpose(1, 0, 2, 3).reshape(c * n, h, w)


def channels_view(a):
    """``(B, C, P)`` view with P contiguous: (N, C, H*W) for NCHW, (1, C, N*H*W) for CNHW."""
    n, c, h, w = a.shape
    if order_of(a) == "nchw":
        return a.reshape(n, c, h * w)
    return a.transpose(1, 0, 2, 3).reshape(1, c, n * h * w)
