"""One check per graded item: the parent's reference against what the student's code returned.

Each ``check_*`` takes ``(child, rng, cases)`` and returns ``{"status", "worst", "hint",
"errors"}``. The student's layer lives in the child (:class:`~.sandbox.RemoteLayer`); the
reference, the inputs and every comparison live here. Forward passes are compared with the
reference; backward passes with the reference backward AND with centred finite differences
of the student's own forward (``gradcheck.numerical_gradient``, sampled entries measured by
``gradcheck.sampled_rel_error``). Before any comparison the shape, dtype and finiteness of each
array are checked, so a student's mistake ends in a verdict with a hint, never in an error of
the grader. Everything is float64; inputs stay away from ReLU kinks and max-pool ties.
"""

import numpy as np

from ... import layers as ref
from ...gradcheck import (
    TOLERANCE,
    away_from_zero,
    distinct_values,
    numerical_gradient,
    rel_error,
    sampled_rel_error,
)
from ...layers.im2col import col2im as ref_col2im
from ...layers.im2col import conv_output_size
from .sandbox import RemoteLayer, call

FORWARD_TOL = 1e-6  # forward vs reference, float64: a correct one agrees to ~1e-15
FD_SAMPLE = 30  # finite differences at this many random entries per tensor (keeps it fast)


class Inconsistent(Exception):
    """The student's forward returned a differently shaped output on a later call."""


class Probe:
    """Collects one item's comparisons: relative errors, failed labels, hints."""

    def __init__(self):
        self.errors = {}  # label -> relative error (inf when not comparable)
        self.failed = []
        self.hints = []

    def fail(self, label, hint=None):
        self.errors.setdefault(label, float("inf"))
        if label not in self.failed:
            self.failed.append(label)
        if hint:
            self.hint(hint)
        return False

    def hint(self, text):
        if text not in self.hints:
            self.hints.append(text)

    def comparable(self, label, got, want):
        """Shape, dtype and finite values first; False (with a hint) if not comparable."""
        got = np.asarray(got)
        if got.shape != want.shape:
            return self.fail(label, f"{label}: shape {got.shape}, expected {want.shape}")
        if got.dtype != want.dtype:
            return self.fail(label, f"{label}: dtype {got.dtype}, expected {want.dtype} "
                                    "(keep the input's dtype, float64 here)")
        if not np.all(np.isfinite(got)):
            return self.fail(label, f"{label} contains NaN or inf")
        return True

    def close(self, label, got, want, tol=TOLERANCE):
        """Record ``rel_error(got, want)``; True if comparable and within ``tol``."""
        want = np.asarray(want, dtype=np.float64)
        if not self.comparable(label, got, want):
            return False
        err = rel_error(got, want)
        self.errors[label] = err
        return err <= tol or self.fail(label)

    def merge(self, other, tag):
        for label, err in other.errors.items():
            self.errors[f"{label} [{tag}]"] = err
        self.failed += [f"{label} [{tag}]" for label in other.failed]
        for h in other.hints:
            self.hint(h)

    def result(self, generic):
        """The item's result; ``generic`` is the hint of last resort."""
        finite = [e for e in self.errors.values() if np.isfinite(e)]
        worst = max(self.errors.values(), default=0.0) if self.errors else None
        worst = None if worst is not None and not np.isfinite(worst) and not finite else worst
        if not self.failed:
            return {"status": "pass", "worst": worst, "hint": "", "errors": self.errors}
        hint = "; ".join(self.hints) if self.hints else \
            f"{generic} (failed: {', '.join(self.failed[:4])})"
        return {"status": "FAIL", "worst": worst, "hint": hint, "errors": self.errors}


def fd_check(probe, label, analytic, forward, array, dout, rng, sample=FD_SAMPLE):
    """Sampled centred differences of ``sum(forward() * dout)`` w.r.t. ``array`` (perturbed
    in place by ``numerical_gradient``) against the student's analytic gradient."""
    analytic = np.asarray(analytic)
    if analytic.shape != array.shape or analytic.dtype != array.dtype or \
            not np.all(np.isfinite(analytic)):
        return probe.fail(label)  # the comparison with the reference gave the hint

    def f():
        out = forward()
        if out.shape != dout.shape:
            raise Inconsistent(f"forward returned shape {out.shape} on one call and "
                               f"{dout.shape} on another")
        return out

    idx = rng.choice(array.size, size=min(sample, array.size), replace=False)
    numeric = numerical_gradient(f, array, dout, indices=idx)
    err = sampled_rel_error(np.asarray(analytic, dtype=np.float64), numeric, idx)
    probe.errors[label] = err
    return err <= TOLERANCE or probe.fail(label)


def run_layer(probe, layer, x, dout):
    """forward then backward on copies; returns ``(out, dx)``."""
    out = layer.forward(x.copy())
    if layer.input_changed:
        probe.fail("input", "forward changed its input array in place; work on a copy")
    dx = layer.backward(dout.copy())
    return out, dx


def grad(probe, layer, key, label):
    """``layer.grads[key]``, or None with a hint when backward did not fill it."""
    if layer.grads_type != "dict":
        probe.fail(label, f"self.grads must be a dict with keys 'W' and 'b', got a "
                          f"{layer.grads_type}")
        return None
    if key not in layer.grads:
        what = "the bias gradient db" if key == "b" else "the weight gradient dW"
        probe.fail(label, f"self.grads has no '{key}': backward must fill {what} "
                          f"(self.grads['{key}'] = ...)")
        return None
    return layer.grads[key]


def check_params(probe, layer, shapes):
    """The layer must expose ``params`` with these keys and shapes (the contract)."""
    if layer.params_type != "dict" or set(layer.params) != set(shapes):
        got = sorted(layer.params) if layer.params_type == "dict" else layer.params_type
        return probe.fail("params", f"layer.params must be a dict with keys {sorted(shapes)}, "
                                    f"got {got}")
    for k, shape in shapes.items():
        if layer.params[k].shape != shape:
            return probe.fail("params", f"params['{k}'] has shape {layer.params[k].shape}, "
                                        f"expected {shape}")
    return True


def transposed_hint(probe, got, want, name):
    got = np.asarray(got)
    if got.ndim >= 2 and got.shape != want.shape and got.shape[:2] == want.shape[1::-1]:
        probe.hint(f"{name} looks transposed: it must have the shape of W, {want.shape} "
                   "(out first, then in)")


# --------------------------------------------------------------------------------------------
# The layers.
# --------------------------------------------------------------------------------------------

def check_relu(child, rng, cases):
    p = Probe()
    for case in cases:
        x = away_from_zero(rng, tuple(case["shape"]))
        dout = rng.standard_normal(x.shape)
        layer = RemoteLayer(child, "ReLU")
        out, dx = run_layer(p, layer, x, dout)
        tag = f" {tuple(case['shape'])}"
        p.close("forward" + tag, out, np.maximum(x, 0), FORWARD_TOL)
        ok = p.close("dx vs reference" + tag, dx, ref.relu_backward(dout, np.maximum(x, 0)))
        fd_check(p, "dx vs finite differences" + tag, dx,
                 lambda layer=layer, x=x: layer.forward(x), x, dout, rng)
        if not ok and np.shape(dx) == x.shape and np.all(np.isfinite(dx)):
            if np.any(dx[x < 0] != 0):
                p.hint("gradient passes through negative inputs: dx must be 0 where x < 0 "
                       "(multiply dout by the mask x > 0)")
            if not np.allclose(dx[x > 0], dout[x > 0]):
                p.hint("where x > 0 the slope is 1: dx must equal dout there")
    return p.result("compare with dx = dout * (x > 0)")


def conv_features(case):
    """Which of padding, stride, groups a convolution case uses."""
    return {name for name, used in [("padding", case.padding > 0), ("stride", case.stride > 1),
                                    ("groups", case.groups > 1)] if used}


def _conv_case(child, rng, case, fd):
    """One convolution case; returns ``(probe, {"out", "dx", "W", "b": ok})``."""
    p = Probe()
    n, c, f, k, s, pad, g = case.n, case.c, case.f, case.k, case.stride, case.padding, \
        case.groups
    layer = RemoteLayer(child, "Conv2d", c, f, k, stride=s, padding=pad, groups=g)
    if not check_params(p, layer, {"W": (f, c // g, k, k), "b": (f,)}):
        return p, {}
    W, b = rng.standard_normal((f, c // g, k, k)), rng.standard_normal(f)
    layer.set_params(W=W, b=b)
    x = rng.standard_normal((n, c, case.h, case.w))
    want, cache = ref.conv2d_forward(x, W, b, s, pad, g)
    dout = rng.standard_normal(want.shape)
    rdx, rdW, rdb = ref.conv2d_backward(dout, cache)
    out, dx = run_layer(p, layer, x, dout)
    dW, db = grad(p, layer, "W", "dW vs reference"), grad(p, layer, "b", "db vs reference")
    ok = {"out": p.close("forward", out, want, FORWARD_TOL),
          "dx": p.close("dx vs reference", dx, rdx),
          "W": dW is not None and p.close("dW vs reference", dW, rdW),
          "b": db is not None and p.close("db vs reference", db, rdb)}
    if np.shape(dx) != x.shape and pad == 0 and np.size(dx) == 0:
        p.hint("dx is empty: with padding 0, dxp[:, :, p:-p] is dxp[:, :, 0:0]; strip the "
               "padding with dxp[:, :, p:h - p, p:w - p] (or skip it when p = 0)")
    if np.shape(dx) == dout.shape and dout.shape != x.shape:
        p.hint("dx has dout's shape: it must have the input's shape (N, C, H, W)")
    if dW is not None:
        transposed_hint(p, dW, rdW, "dW")
        if not ok["W"] and n > 1 and np.shape(dW) == rdW.shape and np.allclose(dW, rdW / n):
            p.hint("dW is the batch MEAN: the loss already averages, so dW must SUM over n")
    if db is not None and not ok["b"] and np.shape(db) == rdb.shape and n > 1 \
            and np.allclose(db, rdb / n):
        p.hint("db is the batch MEAN: db must SUM dout over n and both spatial axes")
    if fd and ok["out"]:
        def forward():  # reads the arrays perturbed in place
            return layer.forward(x)

        fd_check(p, "dx vs finite differences", dx, forward, x, dout, rng)
        for key, analytic in [("W", dW), ("b", db)]:
            if analytic is not None:
                fd_check(p, f"d{key} vs finite differences", analytic, forward,
                         layer.params[key], dout, rng)
    return p, ok


def check_conv2d(child, rng, specs):
    """``specs``: ``{"case": ConvCase, "fd": bool}`` each (fd: also finite differences)."""
    total, oks, cases = Probe(), {}, [s["case"] for s in specs]
    for spec in specs:
        p, ok = _conv_case(child, rng, spec["case"], fd=spec.get("fd", False))
        oks[spec["case"]] = ok
        total.merge(p, spec["case"].name)
    plain = [c for c in cases if not conv_features(c) and oks[c]]
    batch = [c for c in plain if c.n > 1]
    single = [c for c in plain if c.n == 1]
    if batch and single:
        b, one = oks[batch[0]], oks[single[0]]
        if (one["W"] and not b["W"]) or (one["b"] and not b["b"]):
            total.hint("dW/db are right for a batch of one image and wrong for a batch of "
                       "several: sum over EVERY image n of the batch, not only part of it")
        if one["out"] and not b["out"]:
            total.hint("forward is right for one image and wrong for a batch: loop over all n")
    for c in plain:
        b = oks[c]
        if b["out"] and not b["dx"]:
            total.hint("dx is wrong: each output sends dout * W back to every input of its "
                       "window (accumulate where windows overlap)")
        if b["out"] and b["dx"] and not b["W"] and c.n == 1:
            total.hint("dW[f, c, u, v] = sum over n, i, j of dout[n, f, i, j] * "
                       "x[n, c, i*s + u, j*s + v]")
        if b["out"] and not b["b"] and c.n == 1:
            total.hint("db[f] = sum of dout[:, f] over the batch and both spatial axes")
    if plain and all(all(oks[c].values()) for c in plain):
        what = {"padding": "zero-pad x before the windows and strip the padding from dx "
                           "(careful: x[p:-p] is empty for p=0)",
                "stride": "window (i, j) starts at (i*s, j*s), in forward and backward alike "
                          "(the stride matters in backward too)",
                "groups": "filters of group g see only input channels g*C/groups .. "
                          "(g+1)*C/groups - 1, and dx of each group goes back to those "
                          "channels only"}
        for c in cases:
            used = conv_features(c)
            if len(used) == 1 and oks[c] and not all(oks[c].values()):
                feature = used.pop()
                side = "backward" if oks[c]["out"] else "forward"
                total.hint(f"right without {feature}, wrong with it ({side}) - {feature}: "
                           f"{what[feature]}")
    return total.result("compare forward and the three gradients with conv2d_forward/backward")


def _pool_case(child, rng, case):
    p = Probe()
    k, s = case["k"], case["s"]
    x = distinct_values(rng, tuple(case["shape"]))
    want, cache = ref.maxpool2d_forward(x, k, s)
    dout = rng.standard_normal(want.shape)
    layer = RemoteLayer(child, "MaxPool2d", k, s)
    out, dx = run_layer(p, layer, x, dout)
    ok = {"out": p.close("forward", out, want, FORWARD_TOL),
          "dx": p.close("dx vs reference", dx, ref.maxpool2d_backward(dout, cache))}
    if np.shape(dx) == dout.shape and dout.shape != x.shape:
        p.hint("dx has dout's shape: it must have the input's shape (N, C, H, W), with each "
               "window's gradient routed to the position of its maximum")
    if case.get("fd") and ok["out"]:
        fd_check(p, "dx vs finite differences", dx, lambda: layer.forward(x), x, dout, rng,
                 sample=2 * FD_SAMPLE)
    return p, ok, x, dx


def check_maxpool2d(child, rng, cases):
    total, results = Probe(), []
    for case in cases:
        p, ok, x, dx = _pool_case(child, rng, case)
        results.append((case, ok, x, dx))
        total.merge(p, f"{case['k']}/{case['s']} {tuple(case['shape'])}")
    overlap = [r for r in results if r[0]["s"] < r[0]["k"]]
    apart = [r for r in results if r[0]["s"] >= r[0]["k"]]
    if overlap and apart:
        (_, ov, _, _), (_, nov, x2, dx2) = overlap[0], apart[0]
        if ov["out"] and nov["dx"] and not ov["dx"]:
            total.hint("gradient is right where windows do not overlap and wrong where they "
                       "do: overlapping windows must accumulate (dx[...] += dout), not assign")
        elif nov["out"] and not nov["dx"] and np.shape(dx2) == x2.shape \
                and np.all(np.isfinite(dx2)):
            if np.count_nonzero(dx2) > x2.size // 4:
                total.hint("each window's gradient goes to its maximum only, not to every "
                           "input of the window")
            else:
                total.hint("route each window's dout to the position of that window's maximum")
    return total.result("compare with maxpool2d_forward/backward")


def check_lrn(child, rng, cases):
    p = Probe()
    for case in cases:
        size, alpha, beta, k = case["size"], case["alpha"], case["beta"], case["k"]
        x = rng.standard_normal(tuple(case["shape"])) * 3
        want, cache = ref.lrn_forward(x, size, alpha, beta, k)
        dout = rng.standard_normal(x.shape)
        layer = RemoteLayer(child, "LocalResponseNorm", size, alpha, beta, k)
        out, dx = run_layer(p, layer, x, dout)
        tag = f" [size={size} alpha={alpha} beta={beta} k={k}]"
        ok_f = p.close("forward" + tag, out, want, FORWARD_TOL)
        ok_b = p.close("dx vs reference" + tag, dx, ref.lrn_backward(dout, cache))
        if alpha > 0.01 and ok_f:
            fd_check(p, "dx vs finite differences" + tag, dx,
                     lambda layer=layer, x=x: layer.forward(x), x, dout, rng)
        if not ok_f and np.shape(out) == x.shape and np.all(np.isfinite(out)):
            if rel_error(out, ref.lrn_forward(x, size, alpha / size, beta, k)[0]) < 1e-6:
                p.hint("forward uses alpha / n (the PyTorch/Caffe convention): the paper's "
                       "alpha is NOT divided by the window size n")
            elif k != 1.0 and rel_error(out, ref.lrn_forward(x, size, alpha, beta, 1.0)[0]) \
                    < 1e-6:
                p.hint("forward ignores k (uses 1): den = k + alpha * sum of squares")
        if ok_f and not ok_b:
            p.hint("forward is right, backward is not: dx[m] = dout[m] * den[m]^-beta - "
                   "2 alpha beta a[m] * sum over the windows i that contain m of "
                   "dout[i] * b[i] / den[i]")
    return p.result("compare with lrn_forward/lrn_backward")


def check_linear(child, rng, cases):
    p, oks = Probe(), {}
    for case in cases:
        n, i, o = case["n"], case["in"], case["out"]
        layer = RemoteLayer(child, "Linear", i, o)
        if not check_params(p, layer, {"W": (o, i), "b": (o,)}):
            return p.result("params")
        W, b = rng.standard_normal((o, i)), rng.standard_normal(o)
        layer.set_params(W=W, b=b)
        x = rng.standard_normal((n, i))
        want, cache = ref.linear_forward(x, W, b)
        dout = rng.standard_normal(want.shape)
        rdx, rdW, rdb = ref.linear_backward(dout, cache)
        out, dx = run_layer(p, layer, x, dout)
        tag = f" [N={n}]"
        dW, db = grad(p, layer, "W", "dW" + tag), grad(p, layer, "b", "db" + tag)
        ok = [p.close("forward" + tag, out, want, FORWARD_TOL),
              p.close("dx vs reference" + tag, dx, rdx),
              dW is not None and p.close("dW vs reference" + tag, dW, rdW),
              db is not None and p.close("db vs reference" + tag, db, rdb)]
        oks[n] = ok
        if dW is not None:
            transposed_hint(p, dW, rdW, "dW")
        if np.shape(dx) == (n, o) and o != i:
            p.hint("dx has the output's shape: dx = dout @ W has the input's shape (N, in)")
        if case.get("fd") and ok[0]:
            def forward(layer=layer, x=x):  # reads the arrays perturbed in place
                return layer.forward(x)

            fd_check(p, "dx vs finite differences" + tag, dx, forward, x, dout, rng)
            for key, analytic in [("W", dW), ("b", db)]:
                if analytic is not None:
                    fd_check(p, f"d{key} vs finite differences{tag}", analytic, forward,
                             layer.params[key], dout, rng)
    ones = [ok for n, ok in oks.items() if n == 1]
    many = [ok for n, ok in oks.items() if n > 1]
    if ones and many and all(ones[0][2:]) and not all(many[0][2:]):
        p.hint("dW/db are right for one example and wrong for a batch: dW = dout^T @ x and "
               "db = dout.sum(axis=0) sum over the whole batch")
    if many and many[0][0] and not many[0][1]:
        p.hint("dx = dout @ W (W has shape (out, in))")
    return p.result("compare with out = x @ W.T + b and its gradients")


def check_dropout(child, rng, cases):
    p = Probe()
    for case in cases:
        prob, shape = case["p"], tuple(case["shape"])
        x = away_from_zero(rng, shape)
        dout = rng.standard_normal(shape)
        layer = RemoteLayer(child, "Dropout", prob, rng_seed=int(rng.integers(1 << 30)))
        layer.mode(True)
        out, dx = run_layer(p, layer, x, dout)
        tag = f" [p={prob}]"
        if not p.comparable("forward" + tag, out, x) or not p.comparable("dx" + tag, dx, x):
            continue
        kept = out != 0
        if not p.close("forward" + tag, out, np.where(kept, x / (1 - prob), 0.0),
                       FORWARD_TOL):
            if np.allclose(out[kept], x[kept]):
                p.hint("kept units must be scaled by 1 / (1 - p) in training (inverted "
                       "dropout), so that nothing changes at test time")
        dropped = 1 - kept.mean()
        if abs(dropped - prob) > 0.05:
            p.fail(f"fraction dropped{tag}",
                   f"with p={prob} about {prob:.0%} of units must be dropped, got "
                   f"{dropped:.0%}: p is the probability of DROPPING a unit")
        if not p.close("dx" + tag, dx, np.where(kept, dout / (1 - prob), 0.0)):
            p.hint("backward must use the forward pass's mask and scale: dx = dout * mask "
                   "/ (1 - p)")
    x = away_from_zero(rng, (6, 7))
    dout = rng.standard_normal(x.shape)
    layer = RemoteLayer(child, "Dropout", 0.5, rng_seed=7)
    layer.mode(False)
    out, dx = run_layer(p, layer, x, dout)
    if not (p.close("forward [eval]", out, x, FORWARD_TOL) and p.close("dx [eval]", dx, dout)):
        p.hint("in eval mode dropout passes everything through unchanged (out = x, dx = dout)")
    return p.result("compare with dropout_forward/backward")


def check_flatten(child, rng, cases):
    p = Probe()
    for case in cases:
        x = rng.standard_normal(tuple(case["shape"]))
        dout = rng.standard_normal((x.shape[0], x[0].size))
        out, dx = run_layer(p, RemoteLayer(child, "Flatten"), x, dout)
        if not p.close("forward", out, x.reshape(x.shape[0], -1), FORWARD_TOL):
            p.hint("forward must keep the batch axis: x.reshape(N, -1)")
        if not p.close("dx", dx, dout.reshape(x.shape)):
            p.hint("backward reshapes dout back to the input's shape")
    return p.result("compare with reshape")


def _softmax_case(p, child, logits, labels, tag, fd, rng):
    layer = RemoteLayer(child, "SoftmaxCrossEntropy")
    loss = layer.forward(logits.copy(), labels)
    want, cache = ref.softmax_xent_forward(logits, labels)
    ok_f = p.close("loss" + tag, loss, want, FORWARD_TOL)
    dz = layer.backward()
    rdz = ref.softmax_xent_backward(1.0, cache)
    ok_b = p.close("dlogits vs reference" + tag, dz, rdz)
    if fd and ok_f:
        x = logits.copy()
        fd_check(p, "dlogits vs finite differences" + tag, dz,
                 lambda: layer.forward(x, labels), x, np.ones(()), rng, sample=x.size)
    if ok_f and not ok_b and np.shape(dz) == rdz.shape and np.all(np.isfinite(dz)):
        if np.allclose(dz, rdz * len(labels)):
            p.hint("the loss is the batch MEAN, so dlogits = (p - onehot(y)) / N")
        elif np.allclose(dz, -rdz):
            p.hint("sign: dlogits = p - onehot(y), not onehot(y) - p")
    if not ok_f and np.shape(loss) == () and np.isfinite(loss) and len(labels) > 1:
        if np.isclose(loss, want * len(labels)):
            p.hint("the loss is the MEAN over the batch, not the sum")
    return ok_f and ok_b, loss, dz


def check_softmax_xent(child, rng, cases):
    p = Probe()
    for case in cases:
        n, k = case["n"], case["classes"]
        logits = rng.standard_normal((n, k)) * 2
        labels = rng.integers(0, k, size=n)
        _softmax_case(p, child, logits, labels, f" [{n}x{k}]", True, rng)
    # the overflow probe: logits of +-1000
    big = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0]])
    ok, loss, dz = _softmax_case(p, child, big, np.array([0, 2]), " [logits +-1000]", False,
                                 rng)
    if not ok and (not np.all(np.isfinite(loss)) or not np.all(np.isfinite(dz))):
        p.hint("overflow: logits of +-1000 give exp() = inf and a nan loss; subtract each "
               "row's max before exp (log-sum-exp)")
    return p.result("compare with softmax_xent_forward/backward")


# --------------------------------------------------------------------------------------------
# The loop exercises (functions, not layers).
# --------------------------------------------------------------------------------------------

def check_conv2d_loops(child, rng, specs):
    """``conv2d_forward_loops(x, W, b, stride, padding, groups)`` -> out."""
    p, oks, cases = Probe(), {}, [s["case"] for s in specs]
    for case in cases:
        x = rng.standard_normal((case.n, case.c, case.h, case.w))
        W = rng.standard_normal((case.f, case.c // case.groups, case.k, case.k))
        b = rng.standard_normal(case.f)
        want = ref.conv2d_forward_naive(x, W, b, case.stride, case.padding, case.groups)[0]
        out = call(child, "conv2d_forward_loops", x, W, b, case.stride, case.padding,
                   case.groups)
        oks[case] = p.close(f"out [{case.name}]", out, want, FORWARD_TOL)
        if not oks[case] and np.shape(out) == want.shape and np.all(np.isfinite(out)) \
                and rel_error(out, want - b[None, :, None, None]) < 1e-6:
            p.hint("add the bias: out[n, f, i, j] = sum(window * W[f]) + b[f]")
        if np.shape(out) != want.shape and np.ndim(out) == 4:
            p.hint("output size: OH = (H + 2p - K) // s + 1, OW likewise")
    plain = [c for c in cases if not conv_features(c)]
    if plain and all(oks[c] for c in plain):
        for c in cases:
            if not oks[c] and len(conv_features(c)) == 1:
                p.hint(f"right without {next(iter(conv_features(c)))}, wrong with it")
    return p.result("compare with conv2d_forward_naive")


def check_col2im(child, rng, specs):
    """``col2im(dcols, xp_shape, stride)`` -> dxp, the adjoint of im2col."""
    p, oks, cases = Probe(), {}, [s["case"] for s in specs]
    for case in cases:
        hp, wp = case.h + 2 * case.padding, case.w + 2 * case.padding
        oh = conv_output_size(case.h, case.k, case.stride, case.padding)
        ow = conv_output_size(case.w, case.k, case.stride, case.padding)
        dcols = rng.standard_normal((case.n, oh, ow, case.c, case.k, case.k))
        shape = (case.n, case.c, hp, wp)
        want = ref_col2im(dcols, shape, case.stride)
        out = call(child, "col2im", dcols, list(shape), case.stride)
        oks[case] = p.close(f"dxp [{case.name}]", out, want)
    overlap = [c for c in cases if c.stride < c.k]
    apart = [c for c in cases if c.stride >= c.k]
    if overlap and apart and oks[apart[0]] and not oks[overlap[0]]:
        p.hint("right where windows do not overlap, wrong where they do: add each window "
               "back with += (overlapping windows accumulate), not =")
    return p.result("dxp[n, c, i*s + u, j*s + v] += dcols[n, i, j, c, u, v] for every window")


CHECKS = {
    "ReLU": check_relu,
    "Conv2d": check_conv2d,
    "MaxPool2d": check_maxpool2d,
    "LocalResponseNorm": check_lrn,
    "Linear": check_linear,
    "Dropout": check_dropout,
    "Flatten": check_flatten,
    "SoftmaxCrossEntropy": check_softmax_xent,
    "conv2d_forward_loops": check_conv2d_loops,
    "col2im": check_col2im,
}
