"""alexnet-np: AlexNet (Krizhevsky, Sutskever, Hinton 2012) in NumPy, with hand-derived
backward passes, gradient checks, and Numba CUDA kernels for one GPU.

The public API, the same pieces the ``alexnet-np`` command is built from::

    from alexnet_np import build_model, SGD, load_dataset, BatchLoader, TrainSettings, train

    model = build_model("cifar", num_classes=10)          # alexnet_np.model
    opt = SGD(model.params, lr=0.01)                      # alexnet_np.optim, the paper's SGD
    ds = load_dataset("synthetic", model.cfg.image_size)  # alexnet_np.data
    summary = train(TrainSettings(arch="cifar", epochs=2, out="runs/demo"))

The layers live in :mod:`alexnet_np.layers`, gradient checking in :mod:`alexnet_np.gradcheck`,
the GPU kernels in :mod:`alexnet_np.cuda`.
"""

__version__ = "0.1.0"

from .data import BatchLoader, load_dataset  # noqa: E402
from .model import PRESETS, AlexNet, AlexNetConfig, build_model, get_config  # noqa: E402
from .optim import SGD, CosineSchedule, PlateauSchedule, StepSchedule  # noqa: E402
from .train import TrainSettings, evaluate, load_for_inference, train  # noqa: E402

__all__ = [
    "AlexNet", "AlexNetConfig", "PRESETS", "build_model", "get_config", "SGD",
    "PlateauSchedule", "StepSchedule", "CosineSchedule", "load_dataset", "BatchLoader",
    "TrainSettings", "train", "evaluate", "load_for_inference",
]
