"""Test configuration shared by every test module.

Numba's CUDA simulator must be chosen before ``numba.cuda`` is first imported. On a machine
with no NVIDIA device node we switch it on, so that the CUDA tests run (slowly, on tiny shapes)
everywhere; on a GPU machine the same tests run on the device.

``ALEXNET_NP_REQUIRE_GPU=1`` (set by ``alexnet_np/cuda/device_check.sh``) asks for a real-GPU
run: then a missing device, or a simulator switched on, stops the session at once instead of
silently testing the simulator.
"""

import os

if os.environ.get("ALEXNET_NP_REQUIRE_GPU") == "1":
    if os.environ.get("NUMBA_ENABLE_CUDASIM", "0") != "0":
        raise SystemExit("ALEXNET_NP_REQUIRE_GPU=1 but NUMBA_ENABLE_CUDASIM is on: "
                         "unset it (or set it to 0) for a real-GPU run")
    os.environ["NUMBA_ENABLE_CUDASIM"] = "0"
    from numba import cuda

    if not cuda.is_available():
        raise SystemExit("ALEXNET_NP_REQUIRE_GPU=1 but numba.cuda.is_available() is False: "
                         "no usable CUDA GPU (driver, libNVVM?); refusing to fall back to "
                         "the simulator")
elif not os.path.exists("/dev/nvidiactl") and "NUMBA_ENABLE_CUDASIM" not in os.environ:
    os.environ["NUMBA_ENABLE_CUDASIM"] = "1"

# Plots are written to files; never try to open a window.
os.environ.setdefault("MPLBACKEND", "Agg")
