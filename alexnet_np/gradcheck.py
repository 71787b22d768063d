"""Gradient checking: compare a hand-derived backward pass with centred finite differences.

The method (CS231n): pick a random upstream gradient ``dout`` and define the scalar
``L(x) = sum(f(x) * dout)``. Then ``dL/dx`` is exactly what ``backward(dout)`` must return, and
each of its entries can be estimated numerically::

    dL/dx[i] ~ (L(x + eps e_i) - L(x - eps e_i)) / (2 eps)

The centred difference has truncation error O(eps^2). In float64 with eps = 1e-6 that is about
1e-12 relative, while rounding adds about 1e-16 / 1e-6 = 1e-10; a correct backward therefore
agrees to ~1e-9 and a wrong one is off by O(1). We use the tolerance 1e-6: three orders of
magnitude above the noise, many below any real bug. Float32 cannot be checked this way (its
rounding error, ~1e-7 / eps, swamps everything); always check in float64.

Relative error (per tensor)::

    rel_error(a, b) = max_i |a_i - b_i| / max(max_i |a_i|, max_i |b_i|, 1e-30)

i.e. the worst absolute difference measured against the tensor's own scale. Elementwise
relative error would blow up on entries that are legitimately ~0 (a dead ReLU, a pooling input
that wins no window); scaling by the tensor's largest entry does not.

Finite differences lie at kinks: an input within eps of 0 at a ReLU, or two nearly equal values
in a pooling window, make the numerical gradient average two slopes. Draw inputs that stay away
from kinks (:func:`away_from_zero`, :func:`distinct_values`).
"""

from typing import NamedTuple

import numpy as np

from . import layers

TOLERANCE = 1e-6
EPS = 1e-6


def numerical_gradient(f, x, dout, eps=EPS, indices=None):
    """Centred-difference gradient of ``sum(f(x) * dout)`` with respect to ``x``.

    ``x`` is perturbed in place one entry at a time and restored afterwards, so pass the very
    array ``f`` reads (a parameter array, or the input it closes over). ``indices`` (flat
    indices into x) limits the work to those entries; the others stay 0 in the result.
    """
    grad = np.zeros_like(x)
    flat_x, flat_g = x.reshape(-1), grad.reshape(-1)
    for i in range(flat_x.size) if indices is None else indices:
        old = flat_x[i]
        flat_x[i] = old + eps
        plus = np.sum(f() * dout)
        flat_x[i] = old - eps
        minus = np.sum(f() * dout)
        flat_x[i] = old
        flat_g[i] = (plus - minus) / (2 * eps)
    return grad


def rel_error(a, b):
    """Worst absolute difference relative to the larger of the two tensors' maxima."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    scale = max(np.max(np.abs(a), initial=0.0), np.max(np.abs(b), initial=0.0), 1e-30)
    return float(np.max(np.abs(a - b), initial=0.0) / scale)


def sampled_rel_error(exact, numeric, idx):
    """:func:`rel_error` on the flat entries ``idx`` only, scaled by the WHOLE exact tensor."""
    exact, numeric = exact.reshape(-1), numeric.reshape(-1)
    scale = max(np.max(np.abs(exact)), 1e-30)
    return float(np.max(np.abs(exact[idx] - numeric[idx])) / scale)


def assert_close(actual, expected, rtol=TOLERANCE, name="array", show=5):
    """Raise AssertionError unless ``rel_error(actual, expected) <= rtol``.

    The message lists the ``show`` worst entries: index, actual, expected, difference.
    """
    actual, expected = np.asarray(actual), np.asarray(expected)
    if actual.shape != expected.shape:
        raise AssertionError(f"{name}: shape {actual.shape} != expected {expected.shape}")
    err = rel_error(actual, expected)
    if err <= rtol:
        return err
    diff = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
    worst = np.argsort(diff, axis=None)[::-1][:show]
    lines = [f"{name}: relative error {err:.3e} > {rtol:.1e}; worst entries:"]
    for flat in worst:
        idx = np.unravel_index(flat, actual.shape)
        if diff[idx] == 0:
            break
        lines.append(f"  {tuple(int(i) for i in idx)}: actual {float(actual[idx]):.9g}, "
                     f"expected {float(expected[idx]):.9g}, |diff| {diff[idx]:.3e}")
    raise AssertionError("\n".join(lines))


def away_from_zero(rng, shape, margin=0.1, dtype=np.float64):
    """Random values with ``|x| >= margin``: no ReLU kink within reach of eps."""
    x = rng.uniform(margin, 1.0 + margin, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    return x.astype(dtype)


def distinct_values(rng, shape, gap=1e-3, dtype=np.float64):
    """A random permutation of evenly spaced values ``gap`` apart, centred on 0.

    Every pair of entries differs by at least ``gap`` (>> eps), so no max-pool window has a tie
    that a finite difference could flip.
    """
    n = int(np.prod(shape))
    values = (np.arange(n) - n / 2) * gap
    return rng.permutation(values).reshape(shape).astype(dtype)


def check_layer(layer, x, rng=None, eps=EPS, before_forward=None, sample=None):
    """Gradient-check a layer: ``dx`` and every parameter gradient, against finite differences.

    Parameters
    ----------
    layer : Layer
        Its parameters should be float64 (checking float32 only measures rounding noise).
    x : ndarray
        The input; it is copied, never changed.
    rng : numpy.random.Generator, optional
        Draws the random upstream gradient.
    before_forward : callable, optional
        Called before every forward pass; a dropout check uses it to re-seed the layer's
        generator so that every pass drops the same units.
    sample : int, optional
        Check only this many randomly chosen entries of each tensor (for the full-size AlexNet
        layers, where one finite difference per entry would take hours). The error is still
        measured against the scale of the whole analytic tensor.

    Returns
    -------
    dict
        ``{"dx": rel_error, "W": rel_error, ...}`` for the input and each parameter.
    """
    rng = np.random.default_rng(0) if rng is None else rng
    x = np.array(x, copy=True)

    def run():
        if before_forward is not None:
            before_forward()
        return layer.forward(x)

    out = run()
    dout = rng.standard_normal(out.shape).astype(out.dtype)
    dx = layer.backward(dout)
    analytic = {"dx": dx, **{name: g.copy() for name, g in layer.grads.items()}}

    def compare(name, array):
        if sample is None:
            return rel_error(analytic[name], numerical_gradient(run, array, dout, eps))
        idx = rng.choice(array.size, size=min(sample, array.size), replace=False)
        numeric = numerical_gradient(run, array, dout, eps, idx)
        return sampled_rel_error(analytic[name], numeric, idx)

    errors = {"dx": compare("dx", x)}
    for name, value in layer.params.items():
        errors[name] = compare(name, value)
    return errors


def check_loss(loss_layer, logits, labels, eps=EPS):
    """Gradient-check a loss layer: ``backward()`` against finite differences of the loss.

    Returns ``{"dlogits": rel_error}``.
    """
    logits = np.array(logits, copy=True)
    loss_layer.forward(logits, labels)
    analytic = loss_layer.backward()

    def run():
        return np.asarray(loss_layer.forward(logits, labels))

    numeric = numerical_gradient(run, logits, np.ones(()), eps)
    return {"dlogits": rel_error(analytic, numeric)}


# ---------------------------------------------------------------------------------------------
# The suite behind `alexnet-np gradcheck`: a few configurations per layer, float64 throughout.
# ---------------------------------------------------------------------------------------------

class ConvCase(NamedTuple):
    """One convolution configuration for the checks: input (n, c, h, w), f kernels of k x k."""

    name: str
    n: int
    c: int
    h: int
    w: int
    f: int
    k: int
    stride: int = 1
    padding: int = 0
    groups: int = 1

    def __str__(self):
        return (f"{self.name}: x({self.n},{self.c},{self.h},{self.w}) f={self.f} k={self.k} "
                f"s={self.stride} p={self.padding} g={self.groups}")


# The one table of convolution cases: the tests, `alexnet-np gradcheck` and the grader's public
# cases draw from it. Strides 1/2/4, paddings 0/1/2, groups 1/2/3/4, odd and non-square sizes,
# batch size 1, a 1x1 kernel and conv1's 11x11 stride-4 shape in miniature.
CONV_CASES = [
    ConvCase("basic", 2, 3, 7, 7, 4, 3),
    ConvCase("single-image", 1, 3, 6, 6, 4, 3),
    ConvCase("non-square-pad1", 1, 2, 6, 9, 3, 3, 1, 1),
    ConvCase("stride2-groups2", 2, 4, 9, 8, 6, 3, 2, 1, 2),
    ConvCase("conv1-like", 1, 3, 15, 17, 2, 11, 4, 0, 1),
    ConvCase("k5-pad2-groups2", 1, 4, 11, 10, 4, 5, 1, 2, 2),
    ConvCase("groups4-pad2", 2, 8, 5, 7, 8, 3, 2, 2, 4),
    ConvCase("1x1-groups2", 1, 2, 4, 4, 2, 1, 1, 0, 2),
    ConvCase("stride4-groups3", 1, 6, 8, 8, 6, 2, 4, 1, 3),
    # one feature at a time, so that the grader can say which one a submission gets wrong
    ConvCase("stride2", 2, 3, 9, 9, 4, 3, 2),
    ConvCase("groups2", 2, 4, 6, 6, 6, 3, 1, 0, 2),
]

# The few that `alexnet-np gradcheck conv2d` runs (the tests run them all).
SUITE_CONV_CASES = ["basic", "stride2-groups2", "conv1-like", "groups4-pad2"]


def conv_case(name):
    """The case of CONV_CASES called ``name``."""
    return next(c for c in CONV_CASES if c.name == name)


def _suite_conv2d(rng):
    for case in map(conv_case, SUITE_CONV_CASES):
        layer = layers.Conv2d(case.c, case.f, case.k, stride=case.stride, padding=case.padding,
                       groups=case.groups, rng=rng, dtype=np.float64, std=1.0)
        layer.params["b"][:] = rng.standard_normal(case.f)
        x = rng.standard_normal((case.n, case.c, case.h, case.w))
        yield str(case), check_layer(layer, x, rng)


def _suite_relu(rng):
    for shape in [(2, 3, 4, 5), (3, 7)]:
        yield f"x{shape}", check_layer(layers.ReLU(), away_from_zero(rng, shape), rng)


def _suite_lrn(rng):
    for size, alpha, beta, k, c in [(5, 1e-4, 0.75, 2.0, 7), (3, 0.3, 0.75, 1.0, 4),
                                    (4, 0.2, 0.5, 2.0, 6)]:
        layer = layers.LocalResponseNorm(size, alpha, beta, k)
        x = rng.standard_normal((2, c, 3, 3)) * 3
        yield f"C={c} size={size} alpha={alpha} beta={beta} k={k}", check_layer(layer, x, rng)


def _suite_maxpool2d(rng):
    for shape, k, s in [((2, 3, 7, 7), 3, 2), ((1, 2, 8, 6), 2, 2), ((1, 2, 13, 13), 3, 2)]:
        x = distinct_values(rng, shape)
        yield f"x{shape} k={k} s={s}", check_layer(layers.MaxPool2d(k, s), x, rng)


def _suite_dropout(rng):
    for p in [0.5, 0.2]:
        layer = layers.Dropout(p)

        def reseed(layer=layer):
            layer.rng = np.random.default_rng(123)

        x = rng.standard_normal((4, 10))
        yield f"p={p} train", check_layer(layer, x, rng, before_forward=reseed)
    yield "p=0.5 eval", check_layer(layers.Dropout(0.5).eval(), rng.standard_normal((3, 5)), rng)


def _suite_linear(rng):
    for n, i, o in [(3, 5, 4), (1, 12, 7)]:
        layer = layers.Linear(i, o, rng=rng, dtype=np.float64, std=1.0)
        layer.params["b"][:] = rng.standard_normal(o)
        yield f"x({n}, {i}) -> {o}", check_layer(layer, rng.standard_normal((n, i)), rng)


def _suite_flatten(rng):
    yield "x(2, 3, 4, 5)", check_layer(layers.Flatten(), rng.standard_normal((2, 3, 4, 5)), rng)


def _suite_softmax_xent(rng):
    for n, k in [(4, 10), (1, 3)]:
        logits = rng.standard_normal((n, k)) * 2
        labels = rng.integers(0, k, size=n)
        yield f"logits({n}, {k})", check_loss(layers.SoftmaxCrossEntropy(), logits, labels)


SUITE = {
    "conv2d": _suite_conv2d,
    "relu": _suite_relu,
    "lrn": _suite_lrn,
    "maxpool2d": _suite_maxpool2d,
    "dropout": _suite_dropout,
    "linear": _suite_linear,
    "flatten": _suite_flatten,
    "softmax_xent": _suite_softmax_xent,
}


def run_suite(names, seed=0, tol=TOLERANCE):
    """Yield ``(layer, configuration, {tensor: rel_error}, passed)`` for each check."""
    rng = np.random.default_rng(seed)
    for name in names:
        for config, errors in SUITE[name](rng):
            yield name, config, errors, all(e <= tol for e in errors.values())


def check_model(model, x, labels, rng=None, eps=EPS, sample=None):
    """Gradient-check a whole network: the loss's gradient w.r.t. every parameter.

    The model should be float64 (``model.astype(np.float64)``). Dropout masks are held fixed by
    restoring the dropout generator's state before every forward pass. ``sample`` checks only
    that many random entries per tensor. Returns ``{"conv1.W": rel_error, ...}``.
    """
    rng = np.random.default_rng(0) if rng is None else rng
    state = model.dropout_rng.bit_generator.state

    def loss():
        model.dropout_rng.bit_generator.state = state
        return np.asarray(model.loss(x, labels)[0])

    loss()
    model.backward(model.loss_layer.backward())
    analytic = {k: g.copy() for k, g in model.grads.items()}
    errors = {}
    for name, value in model.params.items():
        idx = None
        if sample is not None and value.size > sample:
            idx = rng.choice(value.size, size=sample, replace=False)
        numeric = numerical_gradient(loss, value, np.ones(()), eps, idx)
        if idx is None:
            errors[name] = rel_error(analytic[name], numeric)
        else:
            errors[name] = sampled_rel_error(analytic[name], numeric, idx)
    return errors
