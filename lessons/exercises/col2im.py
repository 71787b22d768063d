"""Exercise: col2im, the adjoint of im2col.

Derived in lessons/02_convolution.py, section 5.
Write the code where it says TODO and keep the name ``col2im`` and its signature (the
grader looks for them). Stuck? lessons/exercises/HINTS.md has a hint for each exercise.
Check your work with::

    alexnet-np grade lessons/exercises/col2im.py

This file is generated from solutions.py by make_templates.py: edit that, not this.
"""

import numpy as np  # noqa: F401 - you will want it


def col2im(dcols, xp_shape, stride):
    """The adjoint of im2col, with the signature and layout of alexnet_np.layers.im2col.

    dcols (N, OH, OW, C, KH, KW): the gradient of every window, where window (i, j) was read
    from ``xp[n, c, i*stride + u, j*stride + v]`` for u < KH, v < KW. xp_shape (N, C, Hp, Wp)
    is the shape of the (padded) input. Returns dxp with shape xp_shape.
    """
    # TASK: return dxp, the gradient with respect to the padded input: every entry of dcols
    # goes back to the element of xp that the window read (windows may overlap).
    raise NotImplementedError("TODO: col2im")
