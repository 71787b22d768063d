"""AlexNet assembled from the layers: presets, the faithfulness switchboard, init, summary.

The paper's network (sec. 3, Fig. 2), layer by layer, with the names used everywhere in this
project (checkpoint keys are ``params/<layer>.<name>``, e.g. ``params/conv1.W``)::

    conv1 11x11/4, 96   -> relu1 -> lrn1 -> pool1 3/2      227 -> 55 -> 27
    conv2 5x5 p2, 256, groups 2 -> relu2 -> lrn2 -> pool2    27 -> 27 -> 13
    conv3 3x3 p1, 384 -> relu3                               13
    conv4 3x3 p1, 384, groups 2 -> relu4                     13
    conv5 3x3 p1, 256, groups 2 -> relu5 -> pool5            13 -> 6
    flatten (6*6*256 = 9216) -> fc6 4096 -> relu6 -> drop6
    fc7 4096 -> relu7 -> drop7 -> fc8 1000 (-> softmax, in the loss)

60,965,224 parameters. The smaller presets keep the same sequence of layers and ingredients at
smaller widths and input sizes.
"""

import dataclasses
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from .errors import UserError
from .layers import (
    Conv2d,
    Dropout,
    Flatten,
    Linear,
    LocalResponseNorm,
    MaxPool2d,
    ReLU,
    SoftmaxCrossEntropy,
    Tanh,
    ZeroPad2d,
)
from .layers.im2col import conv_output_size


class ConvBlock(NamedTuple):
    """What follows one convolution, and how it is split and initialised (sec. 3, Fig. 2)."""

    name: str
    grouped: bool  # split across the two GPUs (groups=2 when cfg.grouped)
    lrn: bool  # local response normalisation after its ReLU (when cfg.lrn)
    pool: bool  # overlapping max-pooling after it (after the LRN, if any)
    bias_one: bool  # its biases start at 1 in the paper's init (sec. 5)


# The five convolutions as data: everything below reads this table instead of testing names.
CONV_BLOCKS = (
    #          name     grouped lrn    pool   bias_one
    ConvBlock("conv1", False, True, True, False),
    ConvBlock("conv2", True, True, True, True),
    ConvBlock("conv3", False, False, False, False),
    ConvBlock("conv4", True, False, False, True),
    ConvBlock("conv5", True, False, True, True),
)
# fc6 and fc7 start their biases at 1 as well; fc8 at 0 (sec. 5)
BIAS_ONE = tuple(block.name for block in CONV_BLOCKS if block.bias_one) + ("fc6", "fc7")


@dataclass
class AlexNetConfig:
    """Everything that defines a network. Defaults are the paper's; presets override some.

    The "faithfulness switchboard" is the block of fields after the widths: each switch says
    where its alternative comes from, so the paper's choices and the later ones can be compared.
    """

    name: str = "paper"
    # --- sizes --------------------------------------------------------------------------
    num_classes: int = 1000  # ILSVRC's 1000 classes; replaced by the dataset's class count
    image_size: int = 256  # S: images are stored S x S (shorter side to S, centre crop; sec. 2)
    input_size: int = 227  # the crop the network sees (paper text says 224; see input_variant)
    in_channels: int = 3  # RGB
    channels: tuple = (96, 256, 384, 384, 256)  # kernels in conv1..conv5 (Fig. 2)
    kernel_sizes: tuple = (11, 5, 3, 3, 3)
    strides: tuple = (4, 1, 1, 1, 1)
    paddings: tuple = (0, 2, 1, 1, 1)
    hidden: tuple = (4096, 4096)  # fc6, fc7
    # --- faithfulness switchboard ------------------------------------------------------------
    # Input geometry (docs/paper.md, "224 vs 227"): "227" (Caffe, the usual reading), "224-ceil"
    # (224 input, cuda-convnet's ceil rule for conv1, done as 3 zero rows/cols bottom-right),
    # "224-pad2" (224 input, conv1 padding 2, torchvision). All give conv1 55x55.
    input_variant: str = "227"
    # The two-GPU split (sec. 3.2): conv2, conv4, conv5 with groups=2. False = one tower.
    grouped: bool = True
    # LRN after relu1 and relu2 (sec. 3.3), the paper's constants. lrn_alpha_over_n=True
    # divides alpha by lrn_size, as cuda-convnet2, Caffe and PyTorch do.
    lrn: bool = True
    lrn_size: int = 5
    lrn_alpha: float = 1e-4
    lrn_beta: float = 0.75
    lrn_k: float = 2.0  # Caffe and PyTorch default k to 1
    lrn_alpha_over_n: bool = False
    # Overlapping pooling (sec. 3.4): z = 3, s = 2. The ablation is z = s = 2.
    pool_kernel: int = 3
    pool_stride: int = 2
    # Non-linearity (sec. 3.1): "relu" (paper) or "tanh" (the saturating baseline of Fig. 1).
    activation: str = "relu"
    # Dropout (sec. 4.2): p = 0.5 on the outputs of fc6 and fc7 ("paper": after their ReLUs);
    # "torchvision" puts it on the inputs of fc6 and fc7 instead. p = 0 switches it off.
    dropout: float = 0.5
    dropout_placement: str = "paper"
    # Initialisation (sec. 5): "paper" = weights N(0, init_std^2), biases 1 in conv2, conv4,
    # conv5, fc6, fc7 and 0 elsewhere; "kaiming" = N(0, 2 / fan_in) weights, zero biases
    # (He et al. 2015), which trains the small presets reliably from scratch.
    init: str = "paper"
    init_std: float = 0.01
    init_bias: float = 1.0  # Caffe's replica used 0.1: with 1 they saw a flat loss
    # "kaiming" only: fc8's weights ~ N(0, fc8_init_std^2) instead of N(0, 2 / fan_in), so that
    # the first logits are small and the first loss is ln(classes), not several units above
    # it (0 = plain Kaiming for fc8 too). docs/training.md shows the effect.
    fc8_init_std: float = 0.0
    # "kaiming" only: calibrate the drawn weights on a batch of training images before the
    # first step (``AlexNet.calibrate_init``): each unit's weights get zero mean and are scaled
    # so that its output has unit std on that batch. Without it, 89% of relu7's energy is the
    # same for every image and the loss sits at ln(classes) for ~50 steps (docs/training.md).
    init_calibrate: bool = False
    # Pixel scale: the network sees (pixels - mean image) * input_scale. The paper feeds raw
    # centred 0..255 values (1.0).
    input_scale: float = 1.0
    notes: str = field(default="", compare=False)  # one line shown by `info`


PRESETS = {
    "paper": AlexNetConfig(
        notes="the paper's network: 227x227 input, 60,965,224 parameters",
    ),
    "tiny": AlexNetConfig(
        name="tiny", num_classes=200, image_size=72, input_size=64,
        channels=(48, 128, 192, 192, 128), kernel_sizes=(5, 5, 3, 3, 3), strides=(2, 1, 1, 1, 1),
        paddings=(2, 2, 1, 1, 1), hidden=(1024, 1024), init="kaiming", input_scale=1 / 64,
        fc8_init_std=0.01, init_calibrate=True,
        notes="64x64 input (Tiny ImageNet, Imagenette at 64 px): 64 -> 32 -> 15 -> 7 -> 3",
    ),
    "cifar": AlexNetConfig(
        name="cifar", num_classes=10, image_size=36, input_size=32,
        channels=(32, 64, 96, 96, 64), kernel_sizes=(3, 5, 3, 3, 3), strides=(1, 1, 1, 1, 1),
        paddings=(1, 2, 1, 1, 1), hidden=(256, 256), init="kaiming", input_scale=1 / 64,
        fc8_init_std=0.01, init_calibrate=True,
        notes="32x32 input (CIFAR-10, the synthetic default): 32 -> 15 -> 7 -> 3",
    ),
    "micro": AlexNetConfig(
        name="micro", num_classes=10, image_size=18, input_size=15,
        channels=(8, 16, 16, 16, 32), kernel_sizes=(3, 3, 3, 3, 3), strides=(1, 1, 1, 1, 1),
        paddings=(1, 1, 1, 1, 1), hidden=(32, 32), init="kaiming", input_scale=1 / 64,
        fc8_init_std=0.01, init_calibrate=True, dropout=0.0,
        notes="toy widths, 15x15 input, no dropout: for tests, lessons and the CUDA "
              "simulator (docs/training.md, why micro waited)",
    ),
}


def get_config(arch, **overrides):
    """The preset ``arch`` with ``overrides`` applied (``None`` values are ignored)."""
    if arch not in PRESETS:
        raise UserError(f"unknown architecture '{arch}'; choose one of: {', '.join(PRESETS)}")
    overrides = {k: v for k, v in overrides.items() if v is not None}
    if overrides.get("input_variant", "227").startswith("224") and "input_size" not in overrides:
        overrides["input_size"] = 224  # the 224 variants are defined for a 224 input
    unknown = set(overrides) - {f.name for f in dataclasses.fields(AlexNetConfig)}
    if unknown:
        raise UserError(f"unknown configuration field(s): {', '.join(sorted(unknown))}")
    cfg = dataclasses.replace(PRESETS[arch], **overrides)
    validate_config(cfg)
    return cfg


def config_to_dict(cfg):
    """A JSON-friendly dict (tuples become lists)."""
    return dataclasses.asdict(cfg)


def config_from_dict(d):
    """Inverse of :func:`config_to_dict`; unknown keys are an error (a damaged checkpoint)."""
    names = {f.name for f in dataclasses.fields(AlexNetConfig)}
    unknown = set(d) - names
    if unknown:
        raise UserError(f"checkpoint configuration has unknown field(s): {sorted(unknown)}")
    d = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}
    cfg = AlexNetConfig(**d)
    validate_config(cfg)
    return cfg


def conv1_geometry(cfg):
    """(extra bottom/right zero padding, conv1 padding) for the input variant."""
    if cfg.input_variant == "227":
        return 0, cfg.paddings[0]
    if cfg.input_variant == "224-ceil":
        size, k, s, p = cfg.input_size, cfg.kernel_sizes[0], cfg.strides[0], cfg.paddings[0]
        ceil_out = 1 + -(-(size + 2 * p - k) // s)  # 1 + ceil((size + 2p - k) / s)
        extra = (ceil_out - 1) * s + k - (size + 2 * p)
        return max(extra, 0), p
    if cfg.input_variant == "224-pad2":
        return 0, 2
    raise UserError(f"unknown input variant '{cfg.input_variant}'; "
                    "choose 227, 224-ceil or 224-pad2")


def validate_config(cfg):
    """Raise UserError if the sizes do not fit together (before any array is allocated)."""
    if cfg.activation not in ("relu", "tanh"):
        raise UserError(f"unknown activation '{cfg.activation}'; choose relu or tanh")
    if cfg.init not in ("paper", "kaiming"):
        raise UserError(f"unknown init '{cfg.init}'; choose paper or kaiming")
    if cfg.dropout_placement not in ("paper", "torchvision"):
        raise UserError(f"unknown dropout placement '{cfg.dropout_placement}'; "
                        "choose paper or torchvision")
    if not 0 <= cfg.dropout < 1:
        raise UserError(f"dropout must be in [0, 1), got {cfg.dropout}")
    if cfg.input_size > cfg.image_size:
        raise UserError(f"input size {cfg.input_size} is larger than the stored image size "
                        f"{cfg.image_size}")
    groups = 2 if cfg.grouped else 1
    for block, c in zip(CONV_BLOCKS, cfg.channels, strict=True):
        if block.grouped and c % groups:
            raise UserError(f"{block.name} has {c} kernels, which cannot be split into 2 groups")
    spatial_sizes(cfg)


def spatial_sizes(cfg):
    """The spatial size after conv1, pool1, conv2, pool2, conv3..5, pool5, as a dict."""
    extra, p1 = conv1_geometry(cfg)
    size = cfg.input_size + extra
    sizes = {}
    for i, (name, _, _, pool, _) in enumerate(CONV_BLOCKS):
        p = p1 if i == 0 else cfg.paddings[i]
        size = conv_output_size(size, cfg.kernel_sizes[i], cfg.strides[i], p)
        if size < 1:
            raise UserError(f"input {cfg.input_size}x{cfg.input_size} is too small: {name} "
                            "has no output")
        sizes[name] = size
        if pool:
            if size < cfg.pool_kernel:
                raise UserError(f"input {cfg.input_size}x{cfg.input_size} is too small: the "
                                f"pooling after {name} sees {size}x{size}, less than its "
                                f"{cfg.pool_kernel}x{cfg.pool_kernel} window")
            size = conv_output_size(size, cfg.pool_kernel, cfg.pool_stride, 0)
            sizes["pool" + name[-1]] = size
    return sizes


def layer_classes(fast=False):
    """The classes the network is built from: ``(Conv2d, LocalResponseNorm, MaxPool2d, Linear,
    ReLU)``.

    ``fast=False``: the plain NumPy reference layers (``alexnet_np/layers``), the code to read.
    ``fast=True``: their Numba twins (``alexnet_np/fast``), subclasses that compute the same
    numbers faster. The other layers (tanh, dropout, ...) have no fast twin.
    """
    if not fast:
        return Conv2d, LocalResponseNorm, MaxPool2d, Linear, ReLU
    # Imported here, only on request: the reference path must run where Numba is missing.
    from .fast import FastConv2d, FastLinear, FastLocalResponseNorm, FastMaxPool2d, FastReLU
    return FastConv2d, FastLocalResponseNorm, FastMaxPool2d, FastLinear, FastReLU


class AlexNet:
    """The network: an ordered list of ``(name, layer)`` pairs, and the loss.

    ``forward(x)`` returns the logits (N, num_classes); ``backward(dlogits)`` fills every
    layer's ``grads``. ``params`` / ``grads`` give flat views ``{"conv1.W": array, ...}`` of
    the layers' own dicts, so an optimizer that updates them in place updates the layers.

    The layers are the NumPy reference layers; ``fast=True`` builds the same network from
    their fast twins (see :func:`layer_classes`): same parameters, same numbers, less time.
    """

    def __init__(self, cfg=None, rng=None, dtype=np.float32, fast=False):
        self.cfg = cfg = cfg or AlexNetConfig()
        validate_config(cfg)
        self.fast = fast
        rng = np.random.default_rng(0) if rng is None else rng
        self.dropout_rng = np.random.default_rng(rng.integers(2**63))
        self.layers = []  # [(name, Layer)]
        Conv, Norm, Pool, Dense, Relu = layer_classes(fast)
        act = {"relu": Relu, "tanh": Tanh}[cfg.activation]
        groups = 2 if cfg.grouped else 1
        extra, p1 = conv1_geometry(cfg)
        alpha = cfg.lrn_alpha / cfg.lrn_size if cfg.lrn_alpha_over_n else cfg.lrn_alpha

        if extra:
            self.add("pad1", ZeroPad2d((0, extra, 0, extra)))
        c_in = cfg.in_channels
        for i, block in enumerate(CONV_BLOCKS):
            k = str(i + 1)
            g = groups if block.grouped else 1
            pad = p1 if i == 0 else cfg.paddings[i]
            self.add(block.name, Conv(c_in, cfg.channels[i], cfg.kernel_sizes[i],
                                      cfg.strides[i], pad, g, rng=rng, dtype=dtype, std=0.0))
            self.add("relu" + k, act())
            if block.lrn and cfg.lrn:
                self.add("lrn" + k, Norm(cfg.lrn_size, alpha, cfg.lrn_beta, cfg.lrn_k))
            if block.pool:
                self.add("pool" + k, Pool(cfg.pool_kernel, cfg.pool_stride))
            c_in = cfg.channels[i]

        self.add("flatten", Flatten())
        features = c_in * spatial_sizes(cfg)["pool5"] ** 2
        for k, width in zip(("6", "7"), cfg.hidden, strict=True):
            if cfg.dropout and cfg.dropout_placement == "torchvision":
                self.add("drop" + k, Dropout(cfg.dropout, rng=self.dropout_rng))
            self.add("fc" + k, Dense(features, width, rng=rng, dtype=dtype, std=0.0))
            self.add("relu" + k, act())
            if cfg.dropout and cfg.dropout_placement == "paper":
                self.add("drop" + k, Dropout(cfg.dropout, rng=self.dropout_rng))
            features = width
        self.add("fc8", Dense(features, cfg.num_classes, rng=rng, dtype=dtype, std=0.0))
        self.loss_layer = SoftmaxCrossEntropy()
        self.init_params(rng)
        # Nothing needs the gradient of the input image, and computing it (col2im over the
        # 227x227 input) is a sizeable share of a step: conv1's backward returns None.
        # Set ``model["conv1"].needs_input_grad = True`` to get dL/dx (e.g. saliency maps).
        self["conv1"].needs_input_grad = False

    # --- structure -----------------------------------------------------------------------
    def add(self, name, layer):
        layer.name = name
        self.layers.append((name, layer))

    def __getitem__(self, name):
        for n, layer in self.layers:
            if n == name:
                return layer
        raise KeyError(name)

    def __repr__(self):
        inner = "\n".join(f"  ({name}): {layer!r}" for name, layer in self.layers)
        return f"AlexNet[{self.cfg.name}](\n{inner}\n)"

    @property
    def params(self):
        """``{"conv1.W": array, ...}``: the layers' own arrays (no copies)."""
        return {f"{n}.{k}": v for n, layer in self.layers for k, v in layer.params.items()}

    @property
    def grads(self):
        """``{"conv1.W": array, ...}`` after ``backward``."""
        return {f"{n}.{k}": v for n, layer in self.layers for k, v in layer.grads.items()}

    def load_params(self, params):
        """Copy arrays from ``{"conv1.W": array, ...}`` into the layers (shapes must match)."""
        own = self.params
        missing = set(own) - set(params)
        if missing:
            raise UserError(f"parameters missing: {', '.join(sorted(missing))}")
        for key, value in params.items():
            if key not in own:
                raise UserError(f"unexpected parameter '{key}'")
            if own[key].shape != value.shape:
                raise UserError(f"parameter '{key}' has shape {value.shape}, the network "
                                f"expects {own[key].shape}")
            own[key][...] = value

    def num_params(self):
        return int(sum(v.size for v in self.params.values()))

    def astype(self, dtype):
        """Cast every parameter to ``dtype`` in place (float64 for gradient checks)."""
        for _, layer in self.layers:
            for k, v in layer.params.items():
                layer.params[k] = v.astype(dtype)
        return self

    # --- modes, forward, backward ----------------------------------------------------
    def train(self):
        for _, layer in self.layers:
            layer.train()
        return self

    def eval(self):
        for _, layer in self.layers:
            layer.eval()
        return self

    def forward(self, x, upto=None):
        """Logits (N, num_classes) for a batch x (N, 3, input, input); with ``upto`` the
        output of that layer instead (e.g. ``upto="relu7"``, the 4096-d fc7 features)."""
        expected = (self.cfg.in_channels, self.cfg.input_size, self.cfg.input_size)
        if x.ndim != 4 or x.shape[1:] != expected:
            raise ValueError(f"AlexNet[{self.cfg.name}]: expected input of shape (N, "
                             f"{', '.join(map(str, expected))}), got shape {x.shape}")
        for name, layer in self.layers:
            x = layer.forward(x)
            if name == upto:
                return x
        if upto is not None:
            raise KeyError(upto)
        return x

    def backward(self, dlogits):
        """Backpropagate from the logits; fills every layer's ``grads``. Returns dx, or None
        when conv1 was told its input gradient is not needed (the default)."""
        d = dlogits
        for _, layer in reversed(self.layers):
            d = layer.backward(d)
            if d is None:  # a layer whose input gradient nobody needs; nothing below learns
                break
        return d

    def loss(self, x, labels):
        """Forward and mean cross-entropy. Returns ``(loss, logits)``."""
        logits = self.forward(x)
        return self.loss_layer.forward(logits, labels), logits

    def loss_and_backward(self, x, labels):
        """One training step's gradient work: forward, loss, backward. Returns loss, logits."""
        loss, logits = self.loss(x, labels)
        self.backward(self.loss_layer.backward())
        return loss, logits

    # --- initialisation --------------------------------------------------------------
    def init_params(self, rng):
        """The paper's init (sec. 5) or Kaiming's; see ``AlexNetConfig.init``."""
        for name, layer in self.layers:
            if "W" not in layer.params:
                continue
            W, b = layer.params["W"], layer.params["b"]
            if self.cfg.init == "paper":
                W[...] = rng.standard_normal(W.shape) * self.cfg.init_std
                b[...] = self.cfg.init_bias if name in BIAS_ONE else 0.0
            else:
                fan_in = int(np.prod(W.shape[1:]))
                std = np.sqrt(2.0 / fan_in)
                if name == "fc8" and self.cfg.fc8_init_std > 0:
                    std = self.cfg.fc8_init_std
                W[...] = rng.standard_normal(W.shape) * std
                b[...] = 0.0

    def calibrate_init(self, x):
        """Data-calibrated Kaiming init on a batch ``x`` (N, 3, input, input) of centred,
        scaled training images; ``AlexNetConfig.init_calibrate``, not in the paper.

        Layer by layer from conv1 to fc7 (fc8 keeps its small N(0, fc8_init_std^2) draw), each
        output unit's weights w (one row of fan_in numbers, biases stay 0) become::

            w <- w - mean(w)            (a constant input gives 0: the unit sees only contrast)
            w <- w / std(w . x_n)       (over the batch and every position: unit std)

        so every pre-activation has zero mean over its inputs' common part and unit std
        whatever the depth. With plain Kaiming the ReLUs' positive mean grows layer by layer
        into an image-independent part that is 89% of relu7's energy on the synthetic set;
        fc8 then cannot learn from relu7 (its problem is ill-conditioned) until the body has
        shrunk that part (docs/training.md, "The cause"). Close to LSUV (Mishkin & Matas,
        2016), per unit and with zero-mean rows. Deterministic given ``x``.
        """
        self.eval()
        h = np.asarray(x, dtype=np.float32)
        for name, layer in self.layers:
            if "W" in layer.params and name != "fc8":
                W = layer.params["W"]
                rows = W.reshape(W.shape[0], -1)
                rows -= rows.mean(axis=1, keepdims=True)
                out = layer.forward(h)
                axes = (0, 2, 3) if out.ndim == 4 else (0,)
                std = out.astype(np.float64).std(axis=axes)
                rows /= np.maximum(std, 1e-8).astype(W.dtype)[:, None]
            h = layer.forward(h)
        self.train()
        return self

    # --- summary ---------------------------------------------------------------------
    def summary_rows(self):
        """Per layer: name, type, output shape (C, H, W) or (F,), parameters, multiply-adds."""
        rows = []
        shape = (self.cfg.in_channels, self.cfg.input_size, self.cfg.input_size)
        for name, layer in self.layers:
            macs = 0
            if isinstance(layer, ZeroPad2d):
                t, b_, l_, r = layer.padding
                shape = (shape[0], shape[1] + t + b_, shape[2] + l_ + r)
            elif isinstance(layer, Conv2d):
                h = conv_output_size(shape[1], layer.kernel_size, layer.stride, layer.padding)
                w = conv_output_size(shape[2], layer.kernel_size, layer.stride, layer.padding)
                shape = (layer.out_channels, h, w)
                macs = h * w * int(np.prod(layer.params["W"].shape))
            elif isinstance(layer, MaxPool2d):
                shape = (shape[0],
                         conv_output_size(shape[1], layer.kernel_size, layer.stride, 0),
                         conv_output_size(shape[2], layer.kernel_size, layer.stride, 0))
            elif isinstance(layer, Flatten):
                shape = (int(np.prod(shape)),)
            elif isinstance(layer, Linear):
                shape = (layer.out_features,)
                macs = layer.params["W"].size
            n_params = int(sum(v.size for v in layer.params.values()))
            rows.append((name, type(layer).__name__, shape, n_params, macs))
        return rows

    def summary(self):
        """A d2l-style table: each layer's output shape, parameters and multiply-adds."""
        lines = [f"AlexNet preset '{self.cfg.name}': input (3, {self.cfg.input_size}, "
                 f"{self.cfg.input_size}), {self.cfg.num_classes} classes",
                 f"{'layer':<9}{'type':<19}{'output shape':<18}{'parameters':>13}"
                 f"{'multiply-adds':>16}"]
        total_p = total_m = 0
        for name, kind, shape, n_params, macs in self.summary_rows():
            lines.append(f"{name:<9}{kind:<19}{str(shape):<18}{n_params:>13,}{macs:>16,}")
            total_p += n_params
            total_m += macs
        lines.append(f"{'total':<46}{total_p:>13,}{total_m:>16,}")
        return "\n".join(lines)


def build_model(arch="paper", num_classes=None, seed=0, dtype=np.float32, fast=False,
                **overrides):
    """``AlexNet(get_config(arch, ...), rng=default_rng(seed))``: the one-line way in.

    The default builds the plain NumPy reference layers (``alexnet_np/layers``); ``fast=True``
    builds their fast twins (``alexnet_np/fast``, needs Numba), which compute the same numbers.
    """
    cfg = get_config(arch, num_classes=num_classes, **overrides)
    return AlexNet(cfg, rng=np.random.default_rng(seed), dtype=dtype, fast=fast)
