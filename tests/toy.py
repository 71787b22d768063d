"""The network of the CUDA simulator tests, defined once.

The simulator runs every GPU thread as a Python thread, so its tests keep the smallest network
of AlexNet's shape: the `micro` preset at the widths it had before it was widened for the
loss-plateau target (docs/training.md, "Why micro waited"), 4-8-8-8-8 / 16-16, 2,026
parameters. On a real GPU the tests run the preset itself.
"""

import numba

SIM = numba.config.ENABLE_CUDASIM
SIM_TOY = {"channels": (4, 8, 8, 8, 8), "hidden": (16, 16)}  # build_model / get_config overrides
TOY = SIM_TOY if SIM else {}  # what the CUDA tests pass: the toy in the simulator only
