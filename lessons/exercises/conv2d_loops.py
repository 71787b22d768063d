"""Exercise: a convolution's forward pass as loops (stride, padding, groups).

Derived in lessons/02_convolution.py, sections 1 and 4.
Write the code where it says TODO and keep the name ``conv2d_forward_loops`` and its signature (the
grader looks for them). Stuck? lessons/exercises/HINTS.md has a hint for each exercise.
Check your work with::

    alexnet-np grade lessons/exercises/conv2d_loops.py

This file is generated from solutions.py by make_templates.py: edit that, not this.
"""

import numpy as np  # noqa: F401 - you will want it


def conv2d_forward_loops(x, W, b, stride=1, padding=0, groups=1):
    """Grouped 2-D convolution (cross-correlation) with plain loops: the definition.

    x (N, C, H, W), W (F, C // groups, KH, KW), b (F,) -> out (N, F, OH, OW) with
    OH = (H + 2 * padding - KH) // stride + 1 (and the same for OW). Filters
    ``g * F/groups .. (g+1) * F/groups - 1`` see input channels ``g * C/groups ..``.
    """
    # TASK: return the output of the convolution, as alexnet_np.layers.conv2d_forward would
    # (same shape, same numbers), using explicit loops over the output positions.
    raise NotImplementedError("TODO: conv2d_forward_loops")
