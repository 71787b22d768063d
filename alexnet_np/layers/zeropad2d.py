"""Zero padding of the two spatial axes, on each side separately.

Used for one thing: cuda-convnet's "ceil rule" input variant (paper sec. 3; docs/paper.md,
"224 vs 227"). With a 224x224 input, conv1 (11x11, stride 4) gives 55 outputs only if the
last window may run past the image: ``1 + ceil((224 - 11) / 4) = 55``. Padding the bottom
and right edges with 3 zeros (224 -> 227) and then using the ordinary floor rule gives exactly
those 55 windows.

Forward ``out = x`` placed at ``[top : top + H, left : left + W]`` inside zeros of shape
(N, C, top + H + bottom, left + W + right); backward ``dx = dout[..., top:top+H, left:left+W]``.
"""

import numpy as np

from .base import Layer, check_nchw


def zeropad2d_forward(x, padding):
    """``padding = (top, bottom, left, right)``. Returns ``(out, cache)``."""
    check_nchw("ZeroPad2d", x)
    top, bottom, left, right = padding
    out = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    return out, (x.shape, padding)


def zeropad2d_backward(dout, cache):
    """Crop the padding away from the gradient."""
    (n, c, h, w), (top, _, left, _) = cache
    return np.ascontiguousarray(dout[:, :, top:top + h, left:left + w])


class ZeroPad2d(Layer):
    """``ZeroPad2d((top, bottom, left, right))``. No parameters."""

    def __init__(self, padding):
        super().__init__()
        self.padding = tuple(padding)

    def forward(self, x):
        out, self.cache = zeropad2d_forward(x, self.padding)
        return out

    def backward(self, dout):
        return zeropad2d_backward(dout, self.cache)

    def extra_repr(self):
        return f"{self.padding}"
