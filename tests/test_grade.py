"""The grader's verdicts: the solutions pass, each classic bug fails with its hint, every
student mistake (wrong shape, dtype, NaN, None) ends in a verdict, and the instructor's side
works: hidden cases and points from a file, JSON, Gradescope's results.json, batch CSV, the
loop exercises and the numeric questions. Hostile submissions: test_grade_hostile.py."""

import csv
import json
import os
import sys
import textwrap
import types

import pytest

from alexnet_np.cli import main
from alexnet_np.errors import UserError
from alexnet_np.tools.grade import (
    LAYERS,
    PUBLIC,
    Settings,
    format_table,
    grade_batch,
    grade_submission,
    load_settings,
)

HERE = os.path.dirname(os.path.abspath(__file__))
TOML = pytest.mark.skipif(sys.version_info < (3, 11), reason="TOML files need Python 3.11")
EXERCISES = os.path.join(HERE, "..", "lessons", "exercises")
SOLUTIONS = os.path.join(EXERCISES, "solutions.py")
with open(SOLUTIONS) as _f:
    SOLVED = _f.read()  # an independent implementation of every layer: the base of the bugs

# The two loop exercises, solved here (conv2d_loops.py and col2im.py in lessons/exercises/ are the
# students' templates); the bugs below are small edits of these.
CONV_LOOPS = """
def conv2d_forward_loops(x, W, b, stride, padding, groups):
    n, c, h, w = x.shape
    f, cg, k, _ = W.shape
    fg = f // groups
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    oh, ow = (h + 2 * padding - k) // stride + 1, (w + 2 * padding - k) // stride + 1
    out = np.zeros((n, f, oh, ow))
    for i_n in range(n):
        for i_f in range(f):
            g = i_f // fg
            for i in range(oh):
                for j in range(ow):
                    win = xp[i_n, g * cg:(g + 1) * cg, i * stride:i * stride + k,
                             j * stride:j * stride + k]
                    out[i_n, i_f, i, j] = np.sum(win * W[i_f]) + b[i_f]
    return out
"""
COL2IM = """
def col2im(dcols, xp_shape, stride):
    n, oh, ow, c, kh, kw = dcols.shape
    dxp = np.zeros(xp_shape)
    for i in range(oh):
        for j in range(ow):
            dxp[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw] += \\
                dcols[:, i, j]
    return dxp
"""

BUGS = {
    "relu_negatives": ("ReLU", """
class ReLU(ReLU):
    def backward(self, dout):
        return dout.copy()  # BUG: gradient also flows where x < 0
""", "negative inputs"),
    "pool_assign": ("MaxPool2d", """
class MaxPool2d(MaxPool2d):
    def backward(self, dout):
        k, s, x = self.k, self.s, self.x
        dx = np.zeros_like(x)
        for i in range(dout.shape[2]):
            for j in range(dout.shape[3]):
                win = x[:, :, i * s:i * s + k, j * s:j * s + k]
                mask = win == win.max(axis=(2, 3), keepdims=True)
                view = dx[:, :, i * s:i * s + k, j * s:j * s + k]
                view[mask] = (mask * dout[:, :, i, j, None, None])[mask]  # BUG: assigns
        return dx
""", "overlapping windows must accumulate"),
    "pool_dout_shaped_dx": ("MaxPool2d", """
class MaxPool2d(MaxPool2d):
    def backward(self, dout):
        return dout.copy()  # BUG: dout-shaped
""", "dx has dout's shape"),
    "conv_partial_batch": ("Conv2d", """
class Conv2d(Conv2d):
    def backward(self, dout):
        dx = super().backward(dout)
        grads, xp = self.grads, self.xp
        self.xp = xp[:1]
        super().backward(dout[:1])  # BUG: dW and db from the first image only
        self.xp = xp
        return dx
""", "batch of one image"),
    "conv_p_minus_p": ("Conv2d", """
class Conv2d(Conv2d):
    def backward(self, dout):
        dx = super().backward(dout)
        p, dxp = self.padding, np.pad(dx, ((0, 0), (0, 0), (self.padding,) * 2,
                                           (self.padding,) * 2))
        return dxp[:, :, p:-p, p:-p]  # BUG: empty when p = 0
""", "dxp[:, :, p:-p]"),
    "conv_mean_dW": ("Conv2d", """
class Conv2d(Conv2d):
    def backward(self, dout):
        dx = super().backward(dout)
        self.grads["W"] = self.grads["W"] / dout.shape[0]  # BUG: the batch mean
        return dx
""", "dW is the batch MEAN"),
    "conv_no_bias_grad": ("Conv2d", """
class Conv2d(Conv2d):
    def backward(self, dout):
        dx = super().backward(dout)
        del self.grads["b"]  # BUG: no bias gradient
        return dx
""", "self.grads has no 'b'"),
    "conv_stride_ignored_in_backward": ("Conv2d", """
class Conv2d(Conv2d):
    def backward(self, dout):
        s = self.stride
        self.stride = 1  # BUG: backward slides the window by 1
        try:
            dx = super().backward(dout)
        finally:
            self.stride = s
        return dx
""", "right without stride, wrong with it (backward)"),
    "linear_transposed_dW": ("Linear", """
class Linear(Linear):
    def backward(self, dout):
        dx = super().backward(dout)
        self.grads["W"] = self.grads["W"].T  # BUG: (in, out)
        return dx
""", "dW looks transposed"),
    "lrn_alpha_over_n": ("LocalResponseNorm", """
class LocalResponseNorm(LocalResponseNorm):
    def forward(self, x):
        alpha = self.alpha
        self.alpha = alpha / self.size  # BUG: PyTorch's convention
        try:
            return super().forward(x)
        finally:
            self.alpha = alpha
""", "alpha / n"),
    "softmax_no_shift": ("SoftmaxCrossEntropy", """
class SoftmaxCrossEntropy(SoftmaxCrossEntropy):
    def forward(self, logits, labels):
        e = np.exp(logits)  # BUG: no max shift
        self.probs = e / e.sum(axis=1, keepdims=True)
        self.labels = labels
        return -np.mean(np.log(self.probs[np.arange(len(labels)), labels]))
""", "subtract each row's max"),
    "relu_float32": ("ReLU", """
class ReLU(ReLU):
    def backward(self, dout):
        return (dout * (self.x > 0)).astype(np.float32)  # BUG: changes the dtype
""", "dtype float32, expected float64"),
    "relu_nan": ("ReLU", """
class ReLU(ReLU):
    def backward(self, dout):
        return dout * (self.x > 0) * np.nan
""", "contains NaN or inf"),
    "dropout_no_scale": ("Dropout", """
class Dropout(Dropout):
    def forward(self, x):
        out = super().forward(x)
        return out * (1 - self.p) if self.training else out  # BUG: no 1 / (1 - p)
""", "scaled by 1 / (1 - p)"),
}


def write(folder, name, body, base=SOLVED):
    path = folder / f"{name}.py"
    path.write_text(base + "\n" + textwrap.dedent(body))
    return str(path)


def rows(report):
    return {r["item"]: r for r in report["items"]}


def test_solutions_pass_with_exit_status_0(capsys):
    assert main(["grade", SOLUTIONS]) == 0
    out = capsys.readouterr().out
    # the eight layers and the two loop exercises (conv2d_forward_loops, col2im)
    assert "all graded items pass: 10/10 points" in out
    for name in [*LAYERS, "conv2d_forward_loops", "col2im"]:
        assert name in out


@pytest.mark.parametrize("bug", list(BUGS))
def test_planted_bug_fails_with_its_hint(tmp_path, bug):
    item, body, hint = BUGS[bug]
    r = rows(grade_submission(write(tmp_path, bug, body), only=[item]))[item]
    assert r["status"] == "FAIL", r
    assert hint in r["hint"], r["hint"]


def test_softmax_overflow_is_caught_even_when_normal_logits_pass(tmp_path):
    _, body, _ = BUGS["softmax_no_shift"]
    report = grade_submission(write(tmp_path, "sm", body), only=["SoftmaxCrossEntropy"])
    errors = rows(report)["SoftmaxCrossEntropy"]["errors"]
    assert errors["loss [5x10]"] < 1e-6
    assert errors["loss [logits +-1000]"] == float("inf")


def test_student_mistakes_in_return_values_are_verdicts(tmp_path):
    path = write(tmp_path, "returns", """
class ReLU(ReLU):
    def backward(self, dout):
        dx = dout * (self.x > 0)  # BUG: forgot to return

class Flatten(Flatten):
    def forward(self, x):
        return ["not", "numbers"]

class Linear:  # BUG: params is not a dict
    def __init__(self, i, o):
        self.params = None
""")
    r = rows(grade_submission(path))
    assert r["ReLU"]["status"] == "error" and "returned None" in r["ReLU"]["hint"]
    assert r["Flatten"]["status"] == "error" and "not an array of numbers" in r["Flatten"]["hint"]
    assert r["Linear"]["status"] == "FAIL" and "params must be a dict" in r["Linear"]["hint"]


def test_raising_layer_and_todo_do_not_stop_the_rest(tmp_path):
    path = write(tmp_path, "mixed", """
class ReLU(ReLU):
    def forward(self, x):
        raise ValueError("I give up")

class Dropout(Dropout):
    def backward(self, dout):
        raise NotImplementedError("TODO: backward")
""")
    r = rows(grade_submission(path, only=["ReLU", "Dropout", "Flatten"]))
    assert r["ReLU"]["status"] == "error" and "I give up" in r["ReLU"]["hint"]
    assert "mixed.py:" in r["ReLU"]["hint"]
    assert r["Dropout"]["status"] == "error" and "TODO" in r["Dropout"]["hint"]
    assert r["Flatten"]["status"] == "pass"


@pytest.mark.parametrize("name", ["relu", "conv2d", "maxpool2d", "lrn", "linear", "dropout",
                                  "flatten", "softmax_xent"])
def test_student_templates_report_the_todo(name):
    report = grade_submission(os.path.join(EXERCISES, f"{name}.py"))
    present = [r for r in report["items"] if r["graded"]]
    assert len(present) == 1
    assert present[0]["status"] == "error" and "TODO" in present[0]["hint"]


def test_one_file_per_layer_folder_is_accepted(tmp_path):
    folder = tmp_path / "student"
    folder.mkdir()
    (folder / "helpers.py").write_text("import numpy as np\n\n\ndef relu(x):\n"
                                       "    return np.maximum(x, 0)\n")
    (folder / "relu.py").write_text(
        "from helpers import relu\n\n\nclass ReLU:\n    def __init__(self):\n"
        "        self.params, self.grads = {}, {}\n\n    def forward(self, x):\n"
        "        self.x = x\n        return relu(x)\n\n    def backward(self, dout):\n"
        "        return dout * (self.x > 0)\n")
    write(folder, "flatten", "", base=SOLVED.split("class SoftmaxCrossEntropy")[0])
    report = grade_submission(str(folder), only=["ReLU", "Flatten"])
    assert [r["status"] for r in report["items"]] == ["pass", "pass"]


def test_loop_exercises_are_graded(tmp_path):
    good = write(tmp_path, "loops", CONV_LOOPS + COL2IM, base="import numpy as np\n")
    report = grade_submission(good)
    r = rows(report)
    assert r["conv2d_forward_loops"]["status"] == "pass"
    assert r["col2im"]["status"] == "pass"
    assert report["passed"] and report["max_score"] == 2
    no_bias = CONV_LOOPS.replace(" + b[i_f]", "")
    assign = COL2IM.replace("] += ", "] = ")
    assert assign != COL2IM
    bad = write(tmp_path, "bad", no_bias + assign, base="import numpy as np\n")
    r = rows(grade_submission(bad))
    assert r["conv2d_forward_loops"]["status"] == "FAIL"
    assert "add the bias" in r["conv2d_forward_loops"]["hint"]
    assert r["col2im"]["status"] == "FAIL" and "+=" in r["col2im"]["hint"]


def test_questions_get_plain_numbers_and_are_items(tmp_path, monkeypatch):
    seen = []

    def check_answers(answers):
        seen.append({k: type(v) for k, v in answers.items()})
        return [(k, v == 42.0, "expected 42" if v != 42.0 else "") for k, v in answers.items()]

    stub = types.ModuleType("alexnet_np.tools.questions")
    stub.QUESTIONS = {"q1": "6 x 7?", "q2": "again?", "q3": "unanswered"}
    stub.check_answers = check_answers
    monkeypatch.setitem(sys.modules, "alexnet_np.tools.questions", stub)
    path = write(tmp_path, "answers", """
class Sneaky(float):
    def __eq__(self, other):
        return True

ANSWERS = {"q1": np.float64(42), "q2": Sneaky(41.0)}
""", base="import numpy as np\n")
    report = grade_submission(path)
    r = rows(report)
    assert r["question q1"]["status"] == "pass"
    assert r["question q2"]["status"] == "FAIL" and "expected 42" in r["question q2"]["hint"]
    assert r["question q3"]["status"] == "missing"
    assert seen == [{"q1": float, "q2": float}]
    assert report["score"] == 1 and report["max_score"] == 3
    table = format_table(report).splitlines()  # the code items it lacks: one line, not rows
    assert not any(line.startswith(("ReLU", "Conv2d", "col2im")) for line in table)
    assert any(line.startswith("not in the submission, so not graded: ReLU, Conv2d")
               for line in table)
    assert table[-1] == "NOT passed: 1/3 points (1 pass, 1 FAIL, 1 missing)"


def test_questions_module_absent_is_skipped(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "alexnet_np.tools.questions", None)
    path = write(tmp_path, "answers", 'ANSWERS = {"q1": 1.0}\n', base="")
    with pytest.raises(UserError, match="defines none"):
        grade_submission(path)
    assert rows(grade_submission(SOLUTIONS, only=["ReLU"]))["ReLU"]["status"] == "pass"
    config = tmp_path / "hw.json"
    config.write_text('{"items": {"questions": {"points": 2}}}')
    with pytest.raises(UserError, match="no alexnet_np/tools/questions.py"):
        grade_submission(path, load_settings(str(config)))


def test_questions_only_when_the_assignment_lists_them(tmp_path, monkeypatch):
    stub = types.ModuleType("alexnet_np.tools.questions")
    stub.QUESTIONS = {"q1": "6 x 7?"}
    stub.check_answers = lambda answers: [(k, v == 42, "no") for k, v in answers.items()]
    monkeypatch.setitem(sys.modules, "alexnet_np.tools.questions", stub)
    path = write(tmp_path, "both", 'ANSWERS = {"q1": 42}\n')
    config = tmp_path / "hw.json"
    config.write_text('{"items": {"ReLU": {}}}')
    assert list(rows(grade_submission(path, load_settings(str(config))))) == ["ReLU"]
    config.write_text('{"items": {"ReLU": {}, "questions": {"points": 3}}}')
    report = grade_submission(path, load_settings(str(config)))
    assert list(rows(report)) == ["ReLU", "question q1"] and report["score"] == 4


CONFIG = """
seed = 1234
[limits]
cpu = 5
[items.Conv2d]
points = 30
public = false
[[items.Conv2d.cases]]
name = "hidden-big"
n = 2
c = 6
h = 9
w = 7
f = 4
k = 3
stride = 2
padding = 1
groups = 2
fd = true
[items.ReLU]
points = 5
"""


@TOML
def test_instructor_file_hidden_cases_and_points(tmp_path):
    config = tmp_path / "hidden.toml"
    config.write_text(CONFIG)
    settings = load_settings(str(config))
    assert settings.seed == 1234 and settings.cpu == 5
    assert [c["case"].name for c in settings.item("Conv2d")["cases"]] == ["hidden-big"]
    assert settings.item("ReLU")["cases"] == PUBLIC["ReLU"]
    report = grade_submission(SOLUTIONS, settings)
    assert [r["item"] for r in report["items"]] == ["ReLU", "Conv2d"]
    assert report["score"] == 35 and report["max_score"] == 35 and report["passed"]
    conv = rows(report)["Conv2d"]["errors"]
    assert "dW vs finite differences [hidden-big]" in conv and "forward [basic]" not in conv
    _, body, _ = BUGS["conv_p_minus_p"]  # right with padding 1, wrong only for p = 0
    bad = grade_submission(write(tmp_path, "pminusp", body), settings)
    assert bad["score"] == 35  # the hidden case has padding: this bug goes unseen there
    json_config = tmp_path / "hidden.json"
    json_config.write_text(json.dumps({"items": {"Conv2d": {"points": 2}, "Flatten": {}}}))
    report = grade_submission(write(tmp_path, "pminusp2", body), load_settings(str(json_config)))
    assert rows(report)["Conv2d"]["score"] == 0 and rows(report)["Flatten"]["score"] == 1
    assert report["max_score"] == 3 and not report["passed"]


@TOML
@pytest.mark.parametrize("text, message", [
    ("[items.Conv3d]\npoints = 1\n", "unknown item 'Conv3d'"),
    ("[items.Conv2d]\ncases = [{n = 2, kernel = 3}]\n", "unknown keys ['kernel']"),
    ("[items.Conv2d]\ncases = [{c = 3, groups = 2}]\n", "multiples of groups"),
    ("[items.ReLU]\npoints = -1\n", "positive number"),
    ("seed = [", "not valid TOML"),
    ("colour = 1\n", "unknown keys ['colour']"),
])
def test_bad_instructor_file_is_one_line(tmp_path, capsys, text, message):
    config = tmp_path / "bad.toml"
    config.write_text(text)
    assert main(["grade", SOLUTIONS, "--config", str(config)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err


def test_json_and_gradescope_output(tmp_path, capsys):
    _, body, _ = BUGS["relu_negatives"]
    path = write(tmp_path, "relu_bug", body)
    results = tmp_path / "results.json"
    assert main(["grade", path, "--json", "--layer", "ReLU", "--layer", "Flatten",
                 "--gradescope", str(results)]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["score"] == 1 and report["max_score"] == 2 and not report["passed"]
    gs = json.loads(results.read_text())
    assert gs["score"] == 1
    tests = {t["name"]: t for t in gs["tests"]}
    assert tests["ReLU"]["score"] == 0 and tests["ReLU"]["max_score"] == 1
    assert "negative inputs" in tests["ReLU"]["output"]
    assert tests["Flatten"]["status"] == "passed"


def test_json_even_when_grading_cannot_start(tmp_path, capsys):
    assert main(["grade", str(tmp_path / "nope.py"), "--json"]) == 2
    out = json.loads(capsys.readouterr().out)
    assert out["passed"] is False and "does not exist" in out["error"]


@TOML
def test_batch_grades_a_folder_into_csv_and_reports(tmp_path, capsys):
    folder = tmp_path / "submissions"
    folder.mkdir()
    write(folder, "alice", "")
    write(folder, "bob", BUGS["relu_negatives"][1])
    (folder / "carol").mkdir()
    (folder / "carol" / "layers.py").write_text("class ReLU(:\n")
    config = tmp_path / "hw.toml"
    config.write_text("[items.ReLU]\npoints = 2\n[items.Flatten]\npoints = 1\n")
    out = tmp_path / "reports"
    assert main(["grade", "--batch", str(folder), "--out", str(out), "--config",
                 str(config)]) == 0
    with open(out / "grades.csv") as f:
        table = list(csv.reader(f))
    assert table[0] == ["student", "score", "max_score", "passed", "status", "ReLU", "Flatten"]
    by_name = {row[0]: row for row in table[1:]}
    assert by_name["alice"][1:] == ["3", "3", "yes", "ok", "2", "1"]
    assert by_name["bob"][1:] == ["1", "3", "no", "ok", "0", "1"]
    assert by_name["carol"][1:4] == ["0", "3", "no"] and by_name["carol"][4] == "error"
    assert "negative inputs" in (out / "bob.txt").read_text()
    assert "syntax error" in (out / "carol.txt").read_text()
    assert json.loads((out / "alice.json").read_text())["passed"] is True


def test_batch_python_api(tmp_path):
    folder = tmp_path / "subs"
    folder.mkdir()
    write(folder, "dave", "")
    reports = grade_batch(str(folder), str(tmp_path / "out"), Settings(), jobs=1,
                          log=open(os.devnull, "w"))
    assert reports["dave"]["passed"]
