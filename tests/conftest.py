"""Test configuration shared by every test module.

Numba's CUDA simulator must be chosen before ``numba.cuda`` is first imported. On a machine
with no NVIDIA device node we switch it on, so that the CUDA tests run (slowly, on tiny shapes)
everywhere; on a GPU machine the same tests run on the device.
"""

import os

if not os.path.exists("/dev/nvidiactl") and "NUMBA_ENABLE_CUDASIM" not in os.environ:
    os.environ["NUMBA_ENABLE_CUDASIM"] = "1"

# Plots are written to files; never try to open a window.
os.environ.setdefault("MPLBACKEND", "Agg")
