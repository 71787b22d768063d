"""A whole AlexNet training step on the GPU: forward, loss, backward and the paper's SGD.

``CudaStepper`` is the device twin of ``NumpyStepper`` (``alexnet_np/train.py``)::

    stepper = CudaStepper(model, optimizer)   # params and velocities to the device, once
    loss = stepper.train_step(x, y)           # training mode; returns the mean loss (float)
    logits = stepper.logits(x)                # eval mode; host (N, classes) float32
    feats = stepper.features(x, upto="relu7") # eval-mode activations of a named layer
    stepper.sync_to_host()                    # device params/velocities -> model/optimizer,
                                              # in place (before writing a checkpoint)
    stepper.load_from_host()                  # the other way (after loading a checkpoint)

What crosses the bus per training step: the input batch and labels (host -> device) and one
float, the loss (device -> host). Everything else lives on the device:

- all parameters in one flat float32 buffer, each layer's ``W``/``b`` a view of it; likewise
  the gradients and the velocities, so the SGD update is one kernel launch;
- per batch size, every layer's output, input-gradient and cache buffers (allocated on first
  use of that batch size and reused afterwards).

The stepper walks ``model.layers`` and reads each layer's attributes (kernel_size, stride,
padding, groups, size/alpha/beta/k, p, ...), so every preset and switchboard setting works.
``optimizer.lr``, ``momentum`` and ``weight_decay`` are read at every step.

Dropout is counter-based (``dropout.py``): the mask of layer i at step t is a hash of
(seed, i, t, element index); no mask is stored or copied. The CPU layers draw their masks from
a ``numpy.random.Generator``, so CPU and GPU runs agree exactly only with dropout 0 (the
parity test); ``dropout_mask_numpy`` reproduces any GPU mask on the host.
"""

import time

import numpy as np
from numba import cuda

from ..layers import (
    Conv2d,
    Dropout,
    Flatten,
    Linear,
    LocalResponseNorm,
    MaxPool2d,
    ReLU,
    Tanh,
    ZeroPad2d,
)
from .common import empty, grid_1d, require_gpu
from .conv2d import ConvGeometry, ConvWorkspace, conv2d_backward, conv2d_forward
from .dropout import dropout_backward, dropout_forward, dropout_key
from .linear import linear_backward, linear_forward
from .lrn import lrn_backward, lrn_forward
from .maxpool2d import empty_arg, maxpool2d_backward, maxpool2d_forward
from .relu import relu_backward, relu_forward, tanh_backward, tanh_forward
from .sgd import sgd_update
from .softmax_xent import softmax_xent
from .zeropad2d import pad_bwd_kernel, pad_fwd_kernel


# ---------------------------------------------------------------------------------------------
# One op per layer type. ``alloc(in_shape)`` returns the buffers for one batch size (a dict
# with at least "out" and "dx"); forward/backward take that dict.
# ---------------------------------------------------------------------------------------------
class _Op:
    has_params = False

    def __init__(self, name, layer, index):
        self.name, self.layer, self.index = name, layer, index

    def out_shape(self, in_shape):
        return in_shape

    def alloc(self, in_shape, need_dx):
        return {"out": empty(self.out_shape(in_shape)),
                "dx": empty(in_shape) if need_dx else None, "in_shape": in_shape}


class _Pad(_Op):
    def out_shape(self, s):
        t, b, l_, r = self.layer.padding
        return (s[0], s[1], s[2] + t + b, s[3] + l_ + r)

    def forward(self, buf, x, training, stepper):
        out = buf["out"]
        pad_fwd_kernel[grid_1d(out.size)](out, x, self.layer.padding[0], self.layer.padding[2])
        return out

    def backward(self, buf, dout, stepper):
        dx = buf["dx"]
        pad_bwd_kernel[grid_1d(dx.size)](dx, dout, self.layer.padding[0],
                                         self.layer.padding[2])
        return dx


class _Conv(_Op):
    has_params = True

    def geo(self, s):
        L = self.layer
        return ConvGeometry(s[0], s[1], s[2], s[3], L.out_channels, L.kernel_size,
                            L.kernel_size, L.stride, L.padding, L.groups)

    def out_shape(self, s):
        return self.geo(s).out_shape

    def alloc(self, in_shape, need_dx):
        buf = super().alloc(in_shape, need_dx)
        buf["geo"] = self.geo(in_shape)
        buf["ws"] = ConvWorkspace(buf["geo"]) if self.stepper_conv == "gemm" else None
        return buf

    def forward(self, buf, x, training, st):
        buf["x"] = x
        W, b = st.w_views[self.name + ".W"], st.w_views[self.name + ".b"]
        return conv2d_forward(buf["out"], x, W, b, buf["geo"], st.conv_version, buf["ws"],
                              st.gemm_version)

    def backward(self, buf, dout, st):
        conv2d_backward(buf["dx"], st.g_views[self.name + ".W"], st.g_views[self.name + ".b"],
                        dout, buf["x"], st.w_views[self.name + ".W"], buf["geo"],
                        st.conv_version, buf["ws"], st.gemm_version)
        return buf["dx"]


class _Act(_Op):
    def forward(self, buf, x, training, st):
        fwd = relu_forward if isinstance(self.layer, ReLU) else tanh_forward
        return fwd(buf["out"], x)

    def backward(self, buf, dout, st):
        bwd = relu_backward if isinstance(self.layer, ReLU) else tanh_backward
        return bwd(buf["dx"], dout, buf["out"])


class _LRN(_Op):
    def alloc(self, in_shape, need_dx):
        buf = super().alloc(in_shape, need_dx)
        buf["den"] = empty(in_shape)
        return buf

    def forward(self, buf, x, training, st):
        L = self.layer
        buf["x"] = x
        return lrn_forward(buf["out"], buf["den"], x, L.size, L.alpha, L.beta, L.k)

    def backward(self, buf, dout, st):
        L = self.layer
        return lrn_backward(buf["dx"], dout, buf["x"], buf["out"], buf["den"], L.size, L.alpha,
                            L.beta)


class _Pool(_Op):
    def out_shape(self, s):
        k, st = self.layer.kernel_size, self.layer.stride
        return (s[0], s[1], (s[2] - k) // st + 1, (s[3] - k) // st + 1)

    def alloc(self, in_shape, need_dx):
        buf = super().alloc(in_shape, need_dx)
        buf["arg"] = empty_arg(self.out_shape(in_shape))
        return buf

    def forward(self, buf, x, training, st):
        maxpool2d_forward(buf["out"], buf["arg"], x, self.layer.kernel_size, self.layer.stride)
        return buf["out"]

    def backward(self, buf, dout, st):
        return maxpool2d_backward(buf["dx"], dout, buf["arg"], self.layer.kernel_size,
                                  self.layer.stride)


class _Dropout(_Op):
    def forward(self, buf, x, training, st):
        p = self.layer.p
        buf["active"] = training and p > 0
        if not buf["active"]:
            return x
        if p >= 1:
            raise ValueError("Dropout: p = 1 drops everything; not supported on the GPU")
        buf["key"] = dropout_key(st.seed, self.index, st.step)
        return dropout_forward(buf["out"], x, p, buf["key"])

    def backward(self, buf, dout, st):
        if not buf["active"]:
            return dout
        return dropout_backward(buf["dx"], dout, self.layer.p, buf["key"])


class _Flatten(_Op):
    def out_shape(self, s):
        return (s[0], int(np.prod(s[1:])))

    def alloc(self, in_shape, need_dx):
        return {"in_shape": in_shape}

    def forward(self, buf, x, training, st):
        return x.reshape(*self.out_shape(x.shape))

    def backward(self, buf, dout, st):
        return dout.reshape(*buf["in_shape"])


class _Linear(_Op):
    has_params = True

    def out_shape(self, s):
        return (s[0], self.layer.out_features)

    def forward(self, buf, x, training, st):
        buf["x"] = x
        return linear_forward(buf["out"], x, st.w_views[self.name + ".W"],
                              st.w_views[self.name + ".b"], st.gemm_version)

    def backward(self, buf, dout, st):
        linear_backward(buf["dx"], st.g_views[self.name + ".W"], st.g_views[self.name + ".b"],
                        dout, buf["x"], st.w_views[self.name + ".W"], st.gemm_version)
        return buf["dx"]


_OPS = ((ZeroPad2d, _Pad), (Conv2d, _Conv), (ReLU, _Act), (Tanh, _Act),
        (LocalResponseNorm, _LRN), (MaxPool2d, _Pool), (Dropout, _Dropout),
        (Flatten, _Flatten), (Linear, _Linear))


def _make_op(name, layer, index):
    for cls, op in _OPS:
        if isinstance(layer, cls):
            return op(name, layer, index)
    raise ValueError(f"CudaStepper: no CUDA kernels for layer '{name}' "
                     f"({type(layer).__name__})")


class CudaStepper:
    """Train and run ``model`` on the GPU; see the module docstring.

    Parameters
    ----------
    model : AlexNet
    optimizer : optim.SGD (its lr, momentum, weight_decay are read at every step)
    seed : int, the dropout seed (masks are a hash of seed, layer and step)
    conv_version : "gemm" (im2col + GEMM, default) or "naive" (direct kernels)
    gemm_version : "tiled128" (v3, default), "tiled" (v2) or "naive" (v1), for the fully
        connected layers and the convolutions' GEMMs
    """

    def __init__(self, model, optimizer, seed=0, conv_version="gemm", gemm_version="tiled128"):
        require_gpu()
        self.model, self.optimizer = model, optimizer
        self.seed, self.step = int(seed), 0
        self.conv_version, self.gemm_version = conv_version, gemm_version
        self.ops = [_make_op(name, layer, i) for i, (name, layer) in enumerate(model.layers)]
        for op in self.ops:
            op.stepper_conv = conv_version
        # --- parameters, gradients, velocities: one flat buffer each, views per tensor
        params = model.params
        self.names = list(params)
        self.shapes = {k: params[k].shape for k in self.names}
        self.offsets, total = {}, 0
        for k in self.names:
            self.offsets[k] = total
            total += params[k].size
        self.size = total
        self.d_w, self.d_v, self.d_g = empty(total), empty(total), empty(total)
        self.w_views, self.g_views = self._views(self.d_w), self._views(self.d_g)
        self.load_from_host()
        self._buffers = {}  # batch size -> per-op buffers
        self._io = {}  # batch size -> (x, labels, loss, row_loss, dlogits)

    def _views(self, flat):
        return {k: flat[self.offsets[k]:self.offsets[k] + int(np.prod(self.shapes[k]))]
                .reshape(*self.shapes[k]) for k in self.names}

    def _flat_host(self, arrays):
        return np.concatenate([np.asarray(arrays[k], np.float32).ravel() for k in self.names])

    # --- host <-> device for checkpoints ---------------------------------------------------
    def load_from_host(self):
        """Copy ``model.params`` and ``optimizer.velocity`` to the device."""
        self.d_w.copy_to_device(self._flat_host(self.model.params))
        self.d_v.copy_to_device(self._flat_host(self.optimizer.velocity))

    def sync_to_host(self):
        """Write the device parameters into ``model.params`` and the velocities into
        ``optimizer.velocity``, in place."""
        w, v = self.d_w.copy_to_host(), self.d_v.copy_to_host()
        params = self.model.params
        for k in self.names:
            o, n = self.offsets[k], params[k].size
            params[k][...] = w[o:o + n].reshape(self.shapes[k])
            self.optimizer.velocity[k][...] = v[o:o + n].reshape(self.shapes[k])

    # --- buffers ---------------------------------------------------------------------------
    def _bufs(self, n):
        if n not in self._buffers:
            cfg = self.model.cfg
            shape = (n, cfg.in_channels, cfg.input_size, cfg.input_size)
            bufs, seen_params = [], False
            for op in self.ops:
                # an input gradient is only needed when some earlier layer has parameters
                bufs.append(op.alloc(shape, need_dx=seen_params))
                seen_params = seen_params or op.has_params
                shape = op.out_shape(shape)
            k = shape[1]
            self._buffers[n] = bufs
            x_shape = (n, cfg.in_channels, cfg.input_size, cfg.input_size)
            self._io[n] = {"x": empty(x_shape), "y": empty(n, dtype=np.int64), "loss": empty(1),
                           # page-locked host copies: the upload runs at full bus speed and
                           # asynchronously, in order with the kernels on the default stream
                           "x_host": cuda.pinned_array(x_shape, dtype=np.float32),
                           "y_host": cuda.pinned_array(n, dtype=np.int64),
                           "row_loss": empty(n), "dlogits": empty((n, k))}
        return self._buffers[n], self._io[n]

    def _upload(self, x):
        expected = (self.model.cfg.in_channels, self.model.cfg.input_size,
                    self.model.cfg.input_size)
        if x.ndim != 4 or x.shape[1:] != expected:
            raise ValueError(f"AlexNet[{self.model.cfg.name}]: expected input of shape (N, "
                             f"{', '.join(map(str, expected))}), got shape {x.shape}")
        bufs, io = self._bufs(x.shape[0])
        # the previous step ended with a synchronous copy to the host (the loss, the logits),
        # so no earlier upload from x_host is still in flight when we overwrite it
        np.copyto(io["x_host"], x, casting="same_kind")
        io["x"].copy_to_device(io["x_host"], stream=cuda.default_stream())
        return bufs, io

    # --- forward / backward ----------------------------------------------------------------
    def _forward(self, bufs, h, training, upto=None, times=None):
        for op, buf in zip(self.ops, bufs, strict=True):
            t0 = _sync_time() if times is not None else 0.0
            h = op.forward(buf, h, training, self)
            if times is not None:
                times[op.name] = [_sync_time() - t0, 0.0]
            if op.name == upto:
                return h
        if upto is not None:
            raise KeyError(upto)
        return h

    def _backward(self, bufs, d, times=None):
        for i in range(len(self.ops) - 1, -1, -1):
            if not any(op.has_params for op in self.ops[:i + 1]):
                break  # nothing below here has parameters: no gradient to propagate
            t0 = _sync_time() if times is not None else 0.0
            d = self.ops[i].backward(bufs[i], d, self)
            if times is not None:
                times[self.ops[i].name][1] = _sync_time() - t0

    def train_step(self, x, y, times=None):
        """One SGD step on the batch ``x`` (N, 3, H, W), ``y`` (N,) ints; returns the mean
        loss. With a dict ``times``, fills {layer: [forward_s, backward_s]} (synchronising
        after every layer: slower, for the benchmark's table)."""
        bufs, io = self._upload(x)
        np.copyto(io["y_host"], y, casting="unsafe")
        io["y"].copy_to_device(io["y_host"], stream=cuda.default_stream())
        logits = self._forward(bufs, io["x"], True, times=times)
        t0 = _sync_time() if times is not None else 0.0
        softmax_xent(io["loss"], io["row_loss"], io["dlogits"], logits, io["y"])
        if times is not None:
            times["loss"] = [_sync_time() - t0, 0.0]
        self._backward(bufs, io["dlogits"], times=times)
        opt = self.optimizer
        t0 = _sync_time() if times is not None else 0.0
        sgd_update(self.d_w, self.d_v, self.d_g, opt.lr, opt.momentum, opt.weight_decay)
        if times is not None:
            times["sgd"] = [0.0, _sync_time() - t0]
        self.step += 1
        return float(io["loss"].copy_to_host()[0])

    def logits(self, x):
        """Eval-mode logits (no dropout) as a host float32 array (N, classes)."""
        bufs, io = self._upload(x)
        return self._forward(bufs, io["x"], False).copy_to_host()

    def features(self, x, upto="relu7"):
        """Eval-mode output of the layer named ``upto``, as a host array."""
        bufs, io = self._upload(x)
        return self._forward(bufs, io["x"], False, upto=upto).copy_to_host()


def _sync_time():
    cuda.synchronize()
    return time.perf_counter()
