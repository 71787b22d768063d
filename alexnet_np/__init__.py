"""alexnet-np: AlexNet (Krizhevsky, Sutskever, Hinton 2012) in NumPy, with hand-derived
backward passes, gradient checks, and Numba CUDA kernels for one GPU."""

__version__ = "0.1.0"
