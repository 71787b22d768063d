"""Grade a student's layers: forward against the reference, backward against finite
differences AND against the reference backward, with probes that name the likely mistake.

A submission is a Python file defining any of the classes in :data:`LAYERS`, with the names and
the contract of :mod:`alexnet_np.layers` (``forward(x)`` -> out, ``backward(dout)`` -> dx and
``self.grads`` filled with the keys of ``self.params``). Each layer is checked in its own child
process with a time limit, so code that raises, hangs or crashes costs only its own row::

    results = grade_file("my_layers.py", timeout=20)
    for r in results: print(r["layer"], r["status"], r["worst"], r["hint"])

Statuses: ``pass``, ``FAIL`` (wrong numbers), ``missing`` (no such class in the file),
``error`` (the student's code raised), ``timeout`` (it ran past the limit).

Everything is float64 (finite differences cannot check float32; see ``gradcheck.py``), inputs
stay away from ReLU kinks and max-pool ties, and every check is deterministic (fixed seeds).
"""

import importlib.util
import multiprocessing
import os
import sys
import traceback

import numpy as np

from .. import layers as ref
from ..errors import UserError
from ..gradcheck import TOLERANCE, away_from_zero, distinct_values, numerical_gradient, rel_error

# The classes a submission may define, in the order they are graded and printed.
LAYERS = ["ReLU", "Conv2d", "MaxPool2d", "LocalResponseNorm", "Linear", "Dropout", "Flatten",
          "SoftmaxCrossEntropy"]
FORWARD_TOL = 1e-6  # forward vs reference, float64: a correct one agrees to ~1e-15
FD_SAMPLE = 40  # finite differences at this many random entries per tensor (keeps it fast)


class Probe:
    """Collects the relative errors of one layer's comparisons, the failures and the hints."""

    def __init__(self):
        self.errors = {}  # label -> relative error
        self.failed = []  # labels that failed
        self.hints = []

    def close(self, label, got, want, tol=TOLERANCE):
        """Record ``rel_error(got, want)``; True if within ``tol`` (and finite, same shape)."""
        got = np.asarray(got, dtype=np.float64)
        want = np.asarray(want, dtype=np.float64)
        if got.shape != want.shape:
            self.errors[label] = np.inf
            self.failed.append(label)
            self.hint(f"{label}: shape {got.shape}, expected {want.shape}")
            return False
        err = rel_error(got, want) if np.all(np.isfinite(got)) else np.inf
        self.errors[label] = err
        if not err <= tol:
            self.failed.append(label)
            return False
        return True

    def hint(self, text):
        if text not in self.hints:
            self.hints.append(text)

    def result(self, generic):
        """``{"status", "worst", "hint", "errors"}``; ``generic`` is the hint of last resort."""
        worst = max(self.errors.values(), default=0.0)
        if not self.failed:
            return {"status": "pass", "worst": worst, "hint": "", "errors": self.errors}
        hint = "; ".join(self.hints) if self.hints else f"{generic} (failed: " \
            f"{', '.join(self.failed[:4])})"
        return {"status": "FAIL", "worst": worst, "hint": hint, "errors": self.errors}


def run_layer(layer, x, dout):
    """forward then backward on copies; returns ``(out, dx, grads, input_changed)``."""
    x_in = x.copy()
    out = np.asarray(layer.forward(x_in))
    changed = not np.array_equal(x_in, x)
    dx = np.asarray(layer.backward(dout.copy()))
    grads = {k: np.array(v, dtype=np.float64) for k, v in getattr(layer, "grads", {}).items()}
    return out, dx, grads, changed


def numeric_grads(layer, x, dout, names, rng, sample=FD_SAMPLE):
    """Centred differences of ``sum(layer.forward(x) * dout)`` for ``"dx"`` and parameters.

    Returns ``{name: (flat indices, numeric values at them)}``.
    """
    x = x.copy()
    result = {}
    for name in names:
        array = x if name == "dx" else layer.params[name]
        idx = rng.choice(array.size, size=min(sample, array.size), replace=False)
        num = numerical_gradient(lambda: layer.forward(x.copy()), array, dout, indices=idx)
        result[name] = (idx, num.reshape(-1)[idx])
    return result


def close_sampled(probe, label, analytic, idx, numeric):
    """Compare sampled entries, measured against the whole analytic tensor's scale."""
    analytic = np.asarray(analytic, dtype=np.float64).reshape(-1)
    if not np.all(np.isfinite(analytic)):
        return probe.close(label, np.inf, 0.0)
    scale = max(np.max(np.abs(analytic), initial=0.0), np.max(np.abs(numeric)), 1e-30)
    err = float(np.max(np.abs(analytic[idx] - numeric)) / scale)
    probe.errors[label] = err
    if err > TOLERANCE:
        probe.failed.append(label)
        return False
    return True


def check_params(probe, layer, shapes):
    """The layer must expose ``params`` with these keys and shapes (the contract)."""
    params = getattr(layer, "params", None)
    if not isinstance(params, dict) or set(params) != set(shapes):
        probe.failed.append("params")
        probe.hint(f"layer.params must be a dict with keys {sorted(shapes)}, got "
                   f"{sorted(params) if isinstance(params, dict) else type(params).__name__}")
        return False
    for k, shape in shapes.items():
        if np.shape(params[k]) != shape:
            probe.failed.append("params")
            probe.hint(f"params['{k}'] has shape {np.shape(params[k])}, expected {shape}")
            return False
    return True


def input_changed_hint(probe, changed):
    if changed:
        probe.failed.append("input")
        probe.hint("forward changed its input array in place; work on a copy")


# --------------------------------------------------------------------------------------------
# One function per layer: (student class, rng) -> result dict.
# --------------------------------------------------------------------------------------------

def grade_relu(cls, rng):
    p = Probe()
    x = away_from_zero(rng, (2, 3, 4, 5))
    dout = rng.standard_normal(x.shape)
    layer = cls()
    out, dx, _, changed = run_layer(layer, x, dout)
    input_changed_hint(p, changed)
    p.close("forward", out, np.maximum(x, 0), FORWARD_TOL)
    ok_ref = p.close("dx vs reference", dx, ref.relu_backward(dout, np.maximum(x, 0))[()])
    fd = numeric_grads(layer, x, dout, ["dx"], rng)
    close_sampled(p, "dx vs finite differences", dx, *fd["dx"])
    if not ok_ref and dx.shape == x.shape:
        if np.any(dx[x < 0] != 0):
            p.hint("gradient passes through negative inputs: dx must be 0 where x < 0 "
                   "(multiply dout by the mask x > 0)")
        if not np.allclose(dx[x > 0], dout[x > 0]):
            p.hint("where x > 0 the slope is 1: dx must equal dout there")
    return p.result("compare with dx = dout * (x > 0)")


def _conv_case(cls, rng, n, c, h, f, k, s, pad, g, fd=False):
    """One convolution configuration; returns ``{"out": ok, "dx": ok, "W": ok, "b": ok}``."""
    p = Probe()
    layer = cls(c, f, k, stride=s, padding=pad, groups=g)
    if not check_params(p, layer, {"W": (f, c // g, k, k), "b": (f,)}):
        return p, {}
    W = rng.standard_normal((f, c // g, k, k))
    b = rng.standard_normal(f)
    layer.params["W"], layer.params["b"] = W.copy(), b.copy()
    x = rng.standard_normal((n, c, h, h))
    want, cache = ref.conv2d_forward(x, W, b, s, pad, g)
    dout = rng.standard_normal(want.shape)
    rdx, rdW, rdb = ref.conv2d_backward(dout, cache)
    out, dx, grads, changed = run_layer(layer, x, dout)
    input_changed_hint(p, changed)
    ok = {"out": p.close("forward", out, want, FORWARD_TOL),
          "dx": p.close("dx vs reference", dx, rdx),
          "W": p.close("dW vs reference", grads.get("W", np.full(1, np.nan)), rdW),
          "b": p.close("db vs reference", grads.get("b", np.full(1, np.nan)), rdb)}
    if "W" in grads and np.shape(grads["W"]) == rdW.shape and not ok["W"] and n > 1:
        if np.allclose(grads["W"], rdW / n):
            p.hint("dW is the batch MEAN: the loss already averages, so dW must SUM over n")
    if fd:
        for name, (idx, num) in numeric_grads(layer, x, dout, ["dx", "W", "b"], rng).items():
            analytic = dx if name == "dx" else grads.get(name, np.full(1, np.nan))
            close_sampled(p, f"d{name.lstrip('d')} vs finite differences", analytic, idx, num)
    return p, ok


def grade_conv2d(cls, rng):
    cases = {  # name: (N, C, H, F, K, stride, padding, groups)
        "batch": (3, 3, 6, 4, 3, 1, 0, 1),
        "single": (1, 3, 6, 4, 3, 1, 0, 1),
        "padding": (2, 3, 5, 4, 3, 1, 1, 1),
        "stride": (2, 3, 9, 4, 3, 2, 0, 1),
        "groups": (2, 4, 6, 6, 3, 1, 1, 2),
    }
    total = Probe()
    oks = {}
    for name, cfg in cases.items():
        p, ok = _conv_case(cls, rng, *cfg, fd=(name == "batch"))
        oks[name] = ok
        for label, err in p.errors.items():
            total.errors[f"{label} [{name}]"] = err
        total.failed += [f"{label} [{name}]" for label in p.failed]
        for h in p.hints:
            total.hint(h)
    b, single = oks["batch"], oks["single"]
    if single and b:
        if (single["W"] and not b["W"]) or (single["b"] and not b["b"]):
            total.hint("dW/db are right for a batch of one image and wrong for a batch of "
                       "several: sum over EVERY image n of the batch, not only part of it")
        if single["out"] and not b["out"]:
            total.hint("forward is right for one image and wrong for a batch: loop over all n")
        if b["out"] and not b["dx"]:
            total.hint("dx is wrong: each output sends dout * W back to every input of its "
                       "window (accumulate where windows overlap)")
        if b["out"] and b["dx"] and not b["W"] and not single["W"]:
            total.hint("dW[f, c, u, v] = sum over n, i, j of dout[n, f, i, j] * "
                       "x[n, c, i*s + u, j*s + v]")
        if b["out"] and not b["b"] and not single["b"]:
            total.hint("db[f] = sum of dout[:, f] over the batch and both spatial axes")
    if b and all(b.values()):
        for name, what in [("padding", "padding: zero-pad x before the windows and strip the "
                                       "padding from dx (careful: x[p:-p] is empty for p=0)"),
                           ("stride", "stride: window (i, j) starts at (i*s, j*s), in forward "
                                      "and backward alike"),
                           ("groups", "groups: filters of group g see only input channels "
                                      "g*C/groups .. (g+1)*C/groups - 1, and dx of each "
                                      "group goes back to those channels only")]:
            if oks[name] and not all(oks[name].values()):
                total.hint(f"right without {name}, wrong with it - {what}")
    return total.result("compare forward and the three gradients with conv2d_forward/backward")


def _pool_case(cls, rng, shape, k, s, fd=False):
    p = Probe()
    x = distinct_values(rng, shape)
    want, cache = ref.maxpool2d_forward(x, k, s)
    dout = rng.standard_normal(want.shape)
    layer = cls(k, s)
    out, dx, _, changed = run_layer(layer, x, dout)
    input_changed_hint(p, changed)
    ok = {"out": p.close("forward", out, want, FORWARD_TOL),
          "dx": p.close("dx vs reference", dx, ref.maxpool2d_backward(dout, cache))}
    if fd:
        idx, num = numeric_grads(layer, x, dout, ["dx"], rng, sample=80)["dx"]
        close_sampled(p, "dx vs finite differences", dx, idx, num)
    return p, ok, x, dx


def grade_maxpool2d(cls, rng):
    total = Probe()
    results = {}
    for name, (shape, k, s) in {"overlapping 3/2": ((2, 3, 7, 7), 3, 2),
                                "non-overlapping 2/2": ((2, 3, 8, 8), 2, 2)}.items():
        p, ok, x, dx = _pool_case(cls, rng, shape, k, s, fd=k == 3)
        results[name] = ok, x, dx
        for label, err in p.errors.items():
            total.errors[f"{label} [{name}]"] = err
        total.failed += [f"{label} [{name}]" for label in p.failed]
        for h in p.hints:
            total.hint(h)
    (ov, _, _), (nov, x2, dx2) = results["overlapping 3/2"], results["non-overlapping 2/2"]
    if ov["out"] and nov["dx"] and not ov["dx"]:
        total.hint("gradient is right where windows do not overlap and wrong where they do: "
                   "overlapping windows must accumulate (dx[...] += dout), not assign")
    elif nov["out"] and not nov["dx"] and dx2.shape == x2.shape:
        if np.count_nonzero(dx2) > x2.size // 4:
            total.hint("each window's gradient goes to its maximum only, not to every input "
                       "of the window")
        else:
            total.hint("route each window's dout to the position of that window's maximum")
    return total.result("compare with maxpool2d_forward/backward")


def grade_lrn(cls, rng):
    p = Probe()
    ok_all = True
    for size, alpha, beta, k in [(5, 0.5, 0.75, 2.0), (3, 0.3, 0.75, 1.0), (5, 1e-4, 0.75, 2.0)]:
        x = rng.standard_normal((2, 7, 3, 3)) * 3
        want, cache = ref.lrn_forward(x, size, alpha, beta, k)
        dout = rng.standard_normal(x.shape)
        layer = cls(size, alpha, beta, k)
        out, dx, _, changed = run_layer(layer, x, dout)
        input_changed_hint(p, changed)
        tag = f" [size={size} alpha={alpha} k={k}]"
        ok_f = p.close("forward" + tag, out, want, FORWARD_TOL)
        ok_b = p.close("dx vs reference" + tag, dx, ref.lrn_backward(dout, cache))
        if alpha > 0.01:
            idx, num = numeric_grads(layer, x, dout, ["dx"], rng)["dx"]
            close_sampled(p, "dx vs finite differences" + tag, dx, idx, num)
        if not ok_f and out.shape == x.shape:
            if rel_error(out, ref.lrn_forward(x, size, alpha / size, beta, k)[0]) < 1e-6:
                p.hint("forward uses alpha / n (the PyTorch/Caffe convention): the paper's "
                       "alpha is NOT divided by the window size n")
            elif rel_error(out, ref.lrn_forward(x, size, alpha, beta, 1.0)[0]) < 1e-6:
                p.hint("forward ignores k (uses 1): den = k + alpha * sum of squares")
        if ok_f and not ok_b:
            p.hint("forward is right, backward is not: dx[m] = dout[m] * den[m]^-beta - "
                   "2 alpha beta a[m] * sum over the windows i that contain m of "
                   "dout[i] * b[i] / den[i]")
        ok_all = ok_all and ok_f and ok_b
    return p.result("compare with lrn_forward/lrn_backward")


def grade_linear(cls, rng):
    p = Probe()
    oks = {}
    for n in (4, 1):
        layer = cls(6, 5)
        if not check_params(p, layer, {"W": (5, 6), "b": (5,)}):
            return p.result("params")
        W, b = rng.standard_normal((5, 6)), rng.standard_normal(5)
        layer.params["W"], layer.params["b"] = W.copy(), b.copy()
        x = rng.standard_normal((n, 6))
        want, cache = ref.linear_forward(x, W, b)
        dout = rng.standard_normal(want.shape)
        rdx, rdW, rdb = ref.linear_backward(dout, cache)
        out, dx, grads, changed = run_layer(layer, x, dout)
        input_changed_hint(p, changed)
        tag = f" [N={n}]"
        oks[n] = [p.close("forward" + tag, out, want, FORWARD_TOL),
                  p.close("dx vs reference" + tag, dx, rdx),
                  p.close("dW vs reference" + tag, grads.get("W", np.full(1, np.nan)), rdW),
                  p.close("db vs reference" + tag, grads.get("b", np.full(1, np.nan)), rdb)]
        if n > 1:
            for name, (idx, num) in numeric_grads(layer, x, dout, ["dx", "W", "b"],
                                                  rng).items():
                got = dx if name == "dx" else grads.get(name, np.full(1, np.nan))
                close_sampled(p, f"d{name.lstrip('d')} vs finite differences{tag}", got, idx,
                              num)
    if all(oks[1][2:]) and not all(oks[4][2:]):
        p.hint("dW/db are right for one example and wrong for a batch: dW = dout^T @ x and "
               "db = dout.sum(axis=0) sum over the whole batch")
    if oks[4][0] and not oks[4][1]:
        p.hint("dx = dout @ W (W has shape (out, in))")
    return p.result("compare with out = x @ W.T + b and its gradients")


def grade_dropout(cls, rng):
    p = Probe()
    x = away_from_zero(rng, (40, 50))
    dout = rng.standard_normal(x.shape)
    for prob in (0.5, 0.2):
        layer = cls(prob, rng=np.random.default_rng(7))
        layer.train()
        out, dx, _, changed = run_layer(layer, x, dout)
        input_changed_hint(p, changed)
        if out.shape != x.shape or dx.shape != x.shape:
            p.close(f"forward [p={prob}]", out, x)
            continue
        kept = out != 0
        want = np.where(kept, x / (1 - prob), 0.0)
        if not p.close(f"forward [p={prob}]", out, want, FORWARD_TOL):
            if np.allclose(out[kept], x[kept]):
                p.hint("kept units must be scaled by 1 / (1 - p) in training (inverted "
                       "dropout), so that nothing changes at test time")
        dropped = 1 - kept.mean()
        if abs(dropped - prob) > 0.05:
            p.failed.append(f"fraction dropped [p={prob}]")
            p.hint(f"with p={prob} about {prob:.0%} of units must be dropped, got "
                   f"{dropped:.0%}: p is the probability of DROPPING a unit")
        if not p.close(f"dx [p={prob}]", dx, np.where(kept, dout / (1 - prob), 0.0)):
            p.hint("backward must use the forward pass's mask and scale: dx = dout * mask "
                   "/ (1 - p)")
    layer = cls(0.5, rng=np.random.default_rng(7))
    layer.eval()
    out, dx, _, _ = run_layer(layer, x, dout)
    if not (p.close("forward [eval]", out, x, FORWARD_TOL) and p.close("dx [eval]", dx, dout)):
        p.hint("in eval mode dropout passes everything through unchanged (out = x, dx = dout)")
    return p.result("compare with dropout_forward/backward")


def grade_flatten(cls, rng):
    p = Probe()
    x = rng.standard_normal((2, 3, 4, 5))
    dout = rng.standard_normal((2, 60))
    out, dx, _, _ = run_layer(cls(), x, dout)
    if not p.close("forward", out, x.reshape(2, -1), FORWARD_TOL):
        p.hint("forward must keep the batch axis: x.reshape(N, -1)")
    if not p.close("dx", dx, dout.reshape(x.shape)):
        p.hint("backward reshapes dout back to the input's shape")
    return p.result("compare with reshape")


def grade_softmax_xent(cls, rng):
    p = Probe()
    logits = rng.standard_normal((5, 10)) * 2
    labels = rng.integers(0, 10, size=5)
    layer = cls()
    loss = np.asarray(layer.forward(logits.copy(), labels), dtype=np.float64)
    want, cache = ref.softmax_xent_forward(logits, labels)
    ok_f = p.close("loss", loss, want, FORWARD_TOL)
    dz = np.asarray(layer.backward())
    rdz = ref.softmax_xent_backward(1.0, cache)
    ok_b = p.close("dlogits vs reference", dz, rdz)
    x = logits.copy()
    num = numerical_gradient(lambda: np.asarray(layer.forward(x, labels)), x, np.ones(()))
    p.close("dlogits vs finite differences", dz, num)
    if ok_f and not ok_b and dz.shape == rdz.shape:
        if np.allclose(dz, rdz * len(labels)):
            p.hint("the loss is the batch MEAN, so dlogits = (p - onehot(y)) / N")
        elif np.allclose(dz, -rdz):
            p.hint("sign: dlogits = p - onehot(y), not onehot(y) - p")
    if not ok_f and loss.shape == () and np.isfinite(loss):
        if np.isclose(loss, want * len(labels)):
            p.hint("the loss is the MEAN over the batch, not the sum")
    # the overflow probe: logits of +-1000
    big = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0]])
    big_labels = np.array([0, 2])
    with np.errstate(all="ignore"):
        layer = cls()
        loss = np.asarray(layer.forward(big.copy(), big_labels), dtype=np.float64)
        dz = np.asarray(layer.backward())
    want, cache = ref.softmax_xent_forward(big, big_labels)
    ok_big = p.close("loss [logits +-1000]", loss, want, FORWARD_TOL)
    ok_big = p.close("dlogits [logits +-1000]", dz, ref.softmax_xent_backward(1.0, cache)) \
        and ok_big
    if not ok_big and (not np.all(np.isfinite(loss)) or not np.all(np.isfinite(dz))):
        p.hint("overflow: logits of +-1000 give exp() = inf and a nan loss; subtract each "
               "row's max before exp (log-sum-exp)")
    return p.result("compare with softmax_xent_forward/backward")


GRADERS = {
    "ReLU": grade_relu,
    "Conv2d": grade_conv2d,
    "MaxPool2d": grade_maxpool2d,
    "LocalResponseNorm": grade_lrn,
    "Linear": grade_linear,
    "Dropout": grade_dropout,
    "Flatten": grade_flatten,
    "SoftmaxCrossEntropy": grade_softmax_xent,
}
assert list(GRADERS) == LAYERS


# --------------------------------------------------------------------------------------------
# Loading a submission and running each layer's checks in a child process.
# --------------------------------------------------------------------------------------------

def load_submission(path):
    """Import the student's file by path; a file that does not load is one UserError line."""
    path = os.path.abspath(path)
    if not os.path.isfile(path):
        raise UserError(f"{path} does not exist")
    name = f"_submission_{abs(hash(path))}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise UserError(f"{path} is not a Python file")
    module = importlib.util.module_from_spec(spec)
    folder = os.path.dirname(path)
    sys.path.insert(0, folder)  # the student's own helper modules next to the file
    try:
        spec.loader.exec_module(module)
    except SyntaxError as err:
        raise UserError(f"{path}, line {err.lineno}: syntax error: {err.msg}") from None
    except Exception as err:  # any failure at import is the student's
        raise UserError(f"{path} raised {type(err).__name__} while being imported: "
                        f"{err}") from None
    finally:
        if sys.path and sys.path[0] == folder:
            sys.path.pop(0)
    return module


def grade_class(cls, name, seed=0):
    """Grade one class in this process; exceptions become an ``error`` result."""
    rng = np.random.default_rng(seed)
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return GRADERS[name](cls, rng)
    except NotImplementedError as err:
        return {"status": "error", "worst": None, "errors": {},
                "hint": f"not written yet (NotImplementedError: {err}): fill in the TODO"}
    except Exception as err:  # report the student's exception, carry on
        frame = traceback.extract_tb(err.__traceback__)[-1]
        where = f"{os.path.basename(frame.filename)}:{frame.lineno}"
        return {"status": "error", "worst": None, "errors": {},
                "hint": f"raised {type(err).__name__}: {err} (at {where})"}


def _child(conn, path, name, seed):
    try:
        module = load_submission(path)
        result = grade_class(getattr(module, name), name, seed)
    except BaseException as err:  # anything at all goes back as an error
        result = {"status": "error", "worst": None, "errors": {},
                  "hint": f"{type(err).__name__}: {err}"}
    try:
        conn.send(result)
    finally:
        conn.close()


def _context():
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def grade_in_child(path, name, timeout, seed=0):
    """Grade one layer in a child process; ``timeout`` seconds before it is stopped."""
    ctx = _context()
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, path, name, seed), daemon=True)
    proc.start()
    child.close()
    answered = parent.poll(timeout)
    result = None
    if answered:
        try:
            result = parent.recv()
        except EOFError:  # the child died before it could answer
            result = None
    proc.join(1.0)
    if proc.is_alive():
        proc.kill()
        proc.join()
    parent.close()
    if result is not None:
        return result
    if not answered:
        return {"status": "timeout", "worst": None, "errors": {},
                "hint": f"no answer within {timeout:g} s: an endless loop, or far too slow "
                        "(vectorise with NumPy, or use fewer nested loops)"}
    code = proc.exitcode
    why = f"signal {-code}" if code is not None and code < 0 else f"exit status {code}"
    return {"status": "error", "worst": None, "errors": {},
            "hint": f"the check process died ({why}): does the code call exit() or crash?"}


def grade_file(path, names=None, timeout=30.0, seed=0):
    """Grade every class of :data:`LAYERS` (or ``names``) that ``path`` defines.

    Returns one dict per layer: ``layer``, ``status``, ``worst`` (float or None), ``hint``,
    ``errors`` (label -> relative error).
    """
    module = load_submission(path)
    names = LAYERS if not names else names
    present = [n for n in names if isinstance(getattr(module, n, None), type)]
    if not any(isinstance(getattr(module, n, None), type) for n in LAYERS):
        raise UserError(f"{path} defines none of the graded classes ({', '.join(LAYERS)})")
    results = []
    for name in names:
        if name not in present:
            results.append({"layer": name, "status": "missing", "worst": None, "errors": {},
                            "hint": f"no class {name} in the file"})
            continue
        result = grade_in_child(os.path.abspath(path), name, timeout, seed)
        results.append({"layer": name, **result})
    return results


def format_table(results):
    """The per-layer table the command prints."""
    lines = [f"{'layer':<20} {'status':<8} {'worst rel. error':>16}  hint"]
    for r in results:
        worst = "-" if r["worst"] is None else f"{r['worst']:.1e}"
        lines.append(f"{r['layer']:<20} {r['status']:<8} {worst:>16}  {r['hint']}")
    return "\n".join(lines)


def passed(results):
    """True if every layer that is present passes (and at least one is present)."""
    present = [r for r in results if r["status"] != "missing"]
    return bool(present) and all(r["status"] == "pass" for r in present)
