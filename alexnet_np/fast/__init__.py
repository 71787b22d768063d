"""Fast CPU versions of the layers whose reference NumPy is slow, each beside its reference.

``alexnet_np/layers`` is the reference: plain NumPy, one op per file, written to be read. This
package mirrors it file by file (``fast/conv2d.py`` is the fast ``layers/conv2d.py``, and so
on) for the ops where NumPy alone leaves time on the table: convolution (im2col/col2im, and
Winograd's F(2x2, 3x3) in ``winograd.py`` for the forward pass and both gradients of the 3x3
layers, F(3x3, 5x5) in ``winograd5.py`` for those of the 5x5 ones), LRN, overlapping
max-pooling, ReLU (both
cores, no mask array) and (two BLAS details) the fully connected layer; ``sgd.py`` has the
paper's SGD update as one fused pass (``FastSGD``). Each fast module has the functional pair
``op_forward_fast`` / ``op_backward_fast`` with the reference's signature and a layer class
that subclasses the reference layer, so ``isinstance(layer, Conv2d)`` still holds and every
attribute, parameter and the contract (``layers/base.py``) stay the same. The tests
(``tests/test_fast_*.py``) hold each fast op to its reference, forward and backward.

The other layers (tanh, dropout, flatten, softmax) are one or two NumPy operations on small
arrays in AlexNet; they need no fast version.

``AlexNet(cfg, fast=True)`` / ``build_model(..., fast=True)`` builds the network from these
classes (``model.layer_classes``); the default builds it from the reference layers, and this
package (and Numba) is then never imported.

The fast layers return the same SHAPES as the reference, but their activations may be
channel-major in MEMORY (``layout.py`` says why): ``out.flags.c_contiguous`` may be False.
Use ``np.ascontiguousarray(out)`` where a C-ordered array matters.
"""

from .conv2d import FastConv2d, conv2d_backward_fast, conv2d_forward_fast
from .linear import FastLinear, linear_backward_fast, linear_forward_fast
from .lrn import FastLocalResponseNorm, lrn_backward_fast, lrn_forward_fast
from .maxpool2d import FastMaxPool2d, maxpool2d_backward_fast, maxpool2d_forward_fast
from .relu import FastReLU, relu_backward_fast, relu_forward_fast

__all__ = [
    "FastConv2d", "FastLocalResponseNorm",
    "FastMaxPool2d", "FastLinear", "linear_forward_fast", "linear_backward_fast",
    "conv2d_forward_fast", "conv2d_backward_fast", "lrn_forward_fast",
    "lrn_backward_fast", "maxpool2d_forward_fast", "maxpool2d_backward_fast",
    "FastReLU", "relu_forward_fast", "relu_backward_fast",
]
