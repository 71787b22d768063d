"""The grader: the reference passes, each classic bug fails with the right hint, and a
student's crash, hang, missing class or syntax error is reported without stopping the rest."""

import json
import os
import textwrap

import pytest

from alexnet_np.cli import main
from alexnet_np.errors import UserError
from alexnet_np.tools.grade import LAYERS, grade_file, passed

HERE = os.path.dirname(os.path.abspath(__file__))
SOLUTIONS = os.path.join(HERE, "..", "lessons", "exercises", "solutions.py")

HEADER = """
import numpy as np
from alexnet_np import layers as L
"""

BUGS = {
    "relu_negatives": ("ReLU", """
class ReLU(L.ReLU):
    def backward(self, dout):
        return dout.copy()  # BUG: gradient also flows where x < 0
""", "negative inputs"),
    "pool_assign": ("MaxPool2d", """
class MaxPool2d(L.MaxPool2d):
    def backward(self, dout):
        x_shape, arg, k, s = self.cache
        dx = np.zeros(x_shape)
        n, c, oh, ow = dout.shape
        for i in range(oh):
            for j in range(ow):
                u, v = np.divmod(arg[:, :, i, j], k)
                for a in range(n):
                    for b in range(c):
                        dx[a, b, i * s + u[a, b], j * s + v[a, b]] = dout[a, b, i, j]  # BUG
        return dx
""", "overlapping windows must accumulate"),
    "conv_partial_batch": ("Conv2d", """
class Conv2d(L.Conv2d):
    def forward(self, x):
        self.x = x
        return super().forward(x)

    def backward(self, dout):
        dx = super().backward(dout)
        # BUG: dW from the first image of the batch only
        _, dW, db = L.conv2d_backward(dout[:1], L.conv2d_forward(
            self.x[:1], self.params["W"], self.params["b"], self.stride, self.padding,
            self.groups)[1])
        self.grads["W"] = dW
        return dx
""", "batch of one image"),
    "lrn_alpha_over_n": ("LocalResponseNorm", """
class LocalResponseNorm(L.LocalResponseNorm):
    def forward(self, x):
        out, self.cache = L.lrn_forward(x, self.size, self.alpha / self.size, self.beta,
                                        self.k)  # BUG: PyTorch's convention
        return out
""", "alpha / n"),
    "softmax_no_shift": ("SoftmaxCrossEntropy", """
class SoftmaxCrossEntropy:
    def forward(self, logits, labels):
        e = np.exp(logits)  # BUG: no max shift
        self.p = e / e.sum(axis=1, keepdims=True)
        self.labels = labels
        return -np.mean(np.log(self.p[np.arange(len(labels)), labels]))

    def backward(self, dloss=1.0):
        d = self.p.copy()
        d[np.arange(len(self.labels)), self.labels] -= 1
        return d / len(self.labels)
""", "subtract each row's max"),
}


def write(tmp_path, name, body):
    path = tmp_path / f"{name}.py"
    path.write_text(HEADER + textwrap.dedent(body))
    return str(path)


def by_layer(results):
    return {r["layer"]: r for r in results}


def test_reference_layers_pass(tmp_path):
    path = write(tmp_path, "reference", "from alexnet_np.layers import *  # noqa: F401,F403\n")
    results = grade_file(path, timeout=60)
    assert [r["status"] for r in results] == ["pass"] * len(LAYERS), results
    assert passed(results)


def test_solutions_file_passes_with_exit_status_0(capsys):
    assert main(["grade", SOLUTIONS, "--timeout", "60"]) == 0
    out = capsys.readouterr().out
    assert "all present layers pass" in out
    for name in LAYERS:
        assert name in out


@pytest.mark.parametrize("bug", list(BUGS))
def test_planted_bug_fails_with_its_hint(tmp_path, bug):
    layer, body, hint = BUGS[bug]
    results = by_layer(grade_file(write(tmp_path, bug, body), timeout=60))
    assert results[layer]["status"] == "FAIL", results[layer]
    assert hint in results[layer]["hint"], results[layer]["hint"]
    others = [r for n, r in results.items() if n != layer]
    assert all(r["status"] == "missing" for r in others)


def test_softmax_overflow_is_caught_even_when_normal_logits_pass(tmp_path):
    _, body, _ = BUGS["softmax_no_shift"]
    r = by_layer(grade_file(write(tmp_path, "sm", body), timeout=60))["SoftmaxCrossEntropy"]
    assert "loss" not in [k for k in r["errors"] if r["errors"][k] > 1e-6]
    assert r["errors"]["loss [logits +-1000]"] > 1e-6


def test_raising_and_hanging_layers_do_not_stop_the_rest(tmp_path, capsys):
    path = write(tmp_path, "mixed", """
from alexnet_np.layers import Linear, Flatten  # noqa: F401

class ReLU(L.ReLU):
    def forward(self, x):
        raise ValueError("I give up")

class MaxPool2d(L.MaxPool2d):
    def backward(self, dout):
        while True:
            pass

class Dropout(L.Dropout):
    def backward(self, dout):
        raise NotImplementedError("TODO: backward")
""")
    code = main(["grade", path, "--timeout", "2", "--json"])
    assert code == 1
    rows = {r["layer"]: r for r in json.loads(capsys.readouterr().out)["layers"]}
    assert rows["ReLU"]["status"] == "error" and "I give up" in rows["ReLU"]["hint"]
    assert rows["MaxPool2d"]["status"] == "timeout"
    assert rows["Dropout"]["status"] == "error" and "TODO" in rows["Dropout"]["hint"]
    assert rows["Linear"]["status"] == "pass" and rows["Flatten"]["status"] == "pass"
    assert rows["Conv2d"]["status"] == "missing"


def test_layer_option_and_table(tmp_path, capsys):
    path = write(tmp_path, "one", BUGS["relu_negatives"][1])
    assert main(["grade", path, "--layer", "ReLU"]) == 1
    out = capsys.readouterr().out
    assert "ReLU" in out and "FAIL" in out and "Conv2d" not in out


def test_syntax_error_is_one_line_exit_2(tmp_path, capsys):
    path = tmp_path / "broken.py"
    path.write_text("class ReLU(:\n    pass\n")
    assert main(["grade", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "syntax error" in err[0] and "line 1" in err[0]


def test_missing_file_and_empty_file(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        grade_file(str(tmp_path / "nope.py"))
    empty = tmp_path / "empty.py"
    empty.write_text("x = 1\n")
    with pytest.raises(UserError, match="defines none"):
        grade_file(str(empty))


@pytest.mark.parametrize("name", ["relu", "conv2d", "maxpool2d", "lrn", "linear", "dropout",
                                  "flatten", "softmax_xent"])
def test_student_templates_report_the_todo(name):
    path = os.path.join(HERE, "..", "lessons", "exercises", f"{name}.py")
    present = [r for r in grade_file(path, timeout=60) if r["status"] != "missing"]
    assert len(present) == 1
    assert present[0]["status"] == "error" and "TODO" in present[0]["hint"]
