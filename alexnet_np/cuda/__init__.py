"""AlexNet's training step as hand-written Numba CUDA kernels, one op per file.

``import alexnet_np.cuda`` never touches the GPU (``@cuda.jit`` compiles lazily), so it works on
any machine; :func:`gpu_available` says whether kernels can run (a CUDA GPU, or Numba's
simulator with ``NUMBA_ENABLE_CUDASIM=1``) and :func:`require_gpu` raises a one-line
:class:`alexnet_np.errors.UserError` when they cannot.

Files: ``gemm`` (v1 naive, v2 tiled; dispatches to v3), ``gemm3`` (v3 tiled128, split-K),
``conv2d`` (naive, im2col + GEMM), ``maxpool2d``, ``lrn``,
``relu`` (ReLU, tanh), ``dropout`` (counter-based masks), ``linear``, ``softmax_xent``,
``reduce`` (bias gradients), ``sgd`` (the paper's update), ``zeropad2d``; ``stepper`` runs a
whole training step on the device; ``bench`` times it; ``compile_check`` compiles every kernel
for sm_80/sm_90 without a GPU. Each kernel file's ``__main__`` validates every version
against the NumPy layers, then times it.
"""

from .common import NO_GPU_MESSAGE, gpu_available, require_gpu

__all__ = ["NO_GPU_MESSAGE", "gpu_available", "require_gpu"]
