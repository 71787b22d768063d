"""alexnet-np: AlexNet (Krizhevsky, Sutskever, Hinton 2012) in NumPy, with hand-derived
backward passes, gradient checks, and Numba CUDA kernels for one GPU.

The public API, the same pieces the ``alexnet-np`` command is built from::

    from alexnet_np import build_model, SGD, load_dataset, BatchLoader, TrainSettings, train

    model = build_model("cifar", num_classes=10)          # alexnet_np.model
    opt = SGD(model.params, lr=0.01)                      # alexnet_np.optim, the paper's SGD
    ds = load_dataset("synthetic", model.cfg.image_size)  # alexnet_np.data
    summary = train(TrainSettings(arch="cifar", epochs=2, out="runs/demo"))

The model is built from the plain NumPy layers of :mod:`alexnet_np.layers` (the reference,
written to be read); ``build_model(..., fast=True)`` builds it from their Numba twins in
:mod:`alexnet_np.fast`. Importing this package never imports Numba. Gradient checking lives in
:mod:`alexnet_np.gradcheck`, the GPU kernels in :mod:`alexnet_np.cuda`.
"""

from .data import BatchLoader, load_dataset
from .model import PRESETS, AlexNet, AlexNetConfig, build_model, get_config
from .optim import SGD, CosineSchedule, PlateauSchedule, StepSchedule
from .train import TrainSettings, evaluate, load_for_inference, train

__version__ = "0.1.0"

__all__ = [
    "AlexNet", "AlexNetConfig", "PRESETS", "build_model", "get_config", "SGD",
    "PlateauSchedule", "StepSchedule", "CosineSchedule", "load_dataset", "BatchLoader",
    "TrainSettings", "train", "evaluate", "load_for_inference",
]
