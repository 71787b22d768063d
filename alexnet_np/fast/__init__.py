"""Fast CPU versions of the layers whose reference NumPy is slow, each beside its reference.

``alexnet_np/layers`` is the reference: plain NumPy, one op per file, written to be read. This
package mirrors it file by file (``fast/conv2d.py`` is the fast ``layers/conv2d.py``, and so
on) for the ops where NumPy alone leaves time on the table: convolution (im2col/col2im),
LRN, overlapping max-pooling and (two BLAS details) the fully connected layer; ``sgd.py`` has
the paper's SGD update as one fused pass (``FastSGD``). Each fast module has the functional pair
``op_forward_fast`` / ``op_backward_fast`` with the reference's signature and a layer class
that subclasses the reference layer, so ``isinstance(layer, Conv2d)`` still holds and every
attribute, parameter and the contract (``layers/base.py``) stay the same. The tests
(``tests/test_fast_*.py``) hold each fast op to its reference, forward and backward.

The other layers (ReLU, dropout, flatten, softmax) are already one or two large NumPy
operations; they need no fast version.

``accelerate(model)`` swaps a model's layers for their fast versions in place (the model does
this unless built with ``fast=False``). The swap shares the ``params``/``grads`` dicts: it
copies no arrays.

The fast layers return the same SHAPES as the reference, but their activations may be
channel-major in MEMORY (``layout.py`` says why): ``out.flags.c_contiguous`` may be False.
Use ``np.ascontiguousarray(out)`` where a C-ordered array matters.
"""

from ..layers import Conv2d, Linear, LocalResponseNorm, MaxPool2d
from .conv2d import FastConv2d, conv2d_backward_fast, conv2d_forward_fast
from .linear import FastLinear, linear_backward_fast, linear_forward_fast
from .lrn import FastLocalResponseNorm, lrn_backward_fast, lrn_forward_fast
from .maxpool2d import FastMaxPool2d, maxpool2d_backward_fast, maxpool2d_forward_fast

FAST_LAYERS = {
    Conv2d: FastConv2d,
    LocalResponseNorm: FastLocalResponseNorm,
    MaxPool2d: FastMaxPool2d,
    Linear: FastLinear,
}


def to_fast(layer):
    """The fast version of ``layer`` sharing its state (params, grads, settings), or ``layer``
    itself when it has none."""
    cls = FAST_LAYERS.get(type(layer))
    if cls is None:
        return layer
    fast = cls.__new__(cls)
    fast.__dict__.update(layer.__dict__)  # the same params/grads dicts, not copies
    return fast


def accelerate(model):
    """Replace ``model.layers`` by their fast versions in place. Returns the model."""
    model.layers = [(name, to_fast(layer)) for name, layer in model.layers]
    return model


__all__ = [
    "accelerate", "to_fast", "FAST_LAYERS", "FastConv2d", "FastLocalResponseNorm",
    "FastMaxPool2d", "FastLinear", "linear_forward_fast", "linear_backward_fast",
    "conv2d_forward_fast", "conv2d_backward_fast", "lrn_forward_fast",
    "lrn_backward_fast", "maxpool2d_forward_fast", "maxpool2d_backward_fast",
]
