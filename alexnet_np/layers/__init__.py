"""Every AlexNet layer in NumPy, one op per file, each with a hand-derived backward pass.

Each module holds the functional pair ``op_forward(...) -> (out, cache)`` /
``op_backward(dout, cache)``, the layer class that wraps it (the contract is in ``base.py``)
and, where it helps, a naive loop oracle that the fast version is tested against.
"""

from .base import Layer
from .conv2d import (
    Conv2d,
    conv2d_backward,
    conv2d_backward_naive,
    conv2d_forward,
    conv2d_forward_naive,
)
from .dropout import Dropout, dropout_backward, dropout_forward
from .flatten import Flatten, flatten_backward, flatten_forward
from .linear import Linear, linear_backward, linear_forward
from .lrn import (
    LocalResponseNorm,
    lrn_backward,
    lrn_backward_naive,
    lrn_forward,
    lrn_forward_naive,
)
from .maxpool2d import (
    MaxPool2d,
    maxpool2d_backward,
    maxpool2d_backward_naive,
    maxpool2d_forward,
    maxpool2d_forward_naive,
)
from .relu import ReLU, Tanh, relu_backward, relu_forward, tanh_backward, tanh_forward
from .softmax_xent import (
    SoftmaxCrossEntropy,
    log_softmax,
    softmax,
    softmax_xent_backward,
    softmax_xent_forward,
)
from .zeropad2d import ZeroPad2d, zeropad2d_backward, zeropad2d_forward

__all__ = [
    "Layer", "Conv2d", "ReLU", "Tanh", "LocalResponseNorm", "MaxPool2d", "Dropout", "Linear",
    "Flatten", "SoftmaxCrossEntropy", "ZeroPad2d", "zeropad2d_forward", "zeropad2d_backward",
    "conv2d_forward", "conv2d_backward", "conv2d_forward_naive", "conv2d_backward_naive",
    "relu_forward", "relu_backward", "tanh_forward", "tanh_backward",
    "lrn_forward", "lrn_backward", "lrn_forward_naive", "lrn_backward_naive",
    "maxpool2d_forward", "maxpool2d_backward", "maxpool2d_forward_naive",
    "maxpool2d_backward_naive",
    "dropout_forward", "dropout_backward", "linear_forward", "linear_backward",
    "flatten_forward", "flatten_backward",
    "softmax_xent_forward", "softmax_xent_backward", "softmax", "log_softmax",
]
