"""Hostile submissions: each ends in a clear verdict within its limits, with a non-zero exit
status and the instructor's files untouched. The grader runs from a temporary working folder
holding a canary file; CPU limits are small (0.5 to 2 s) to keep these tests fast."""

import json
import os
import time

import pytest

from alexnet_np.cli import main
from alexnet_np.tools.grade import Settings, grade_submission, load_settings

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "..", "lessons", "exercises", "solutions.py")) as _f:
    SOLVED = _f.read()
REFERENCE_FILE = os.path.join(HERE, "..", "alexnet_np", "layers", "relu.py")
FAST = Settings(cpu=2.0, memory_mb=1024)
BOUND = 60  # seconds: every case below must end well within this, even on a busy machine


@pytest.fixture
def instructor(tmp_path, monkeypatch):
    """A working folder with a canary file; returns (folder, canary)."""
    folder = tmp_path / "instructor"
    folder.mkdir()
    canary = folder / "canary.txt"
    canary.write_text("grades")
    monkeypatch.chdir(folder)
    return folder, canary


def submit(tmp_path, text, base=SOLVED):
    path = tmp_path / "hostile.py"
    path.write_text(base + "\n" + text)
    return str(path)


def grade(path, only=None, settings=FAST):
    start = time.monotonic()
    report = grade_submission(path, settings, only=only)
    assert time.monotonic() - start < BOUND
    assert not report["passed"]
    return {r["item"]: r for r in report["items"]}, report


def untouched(folder, canary):
    assert canary.read_text() == "grades"
    assert sorted(os.listdir(folder)) == ["canary.txt"]


def test_endless_loop_at_import(tmp_path, instructor, capsys):
    path = submit(tmp_path, "while True:\n    pass\n")
    start = time.monotonic()
    assert main(["grade", path, "--timeout", "1", "--json"]) == 1
    assert time.monotonic() - start < BOUND
    report = json.loads(capsys.readouterr().out)
    assert report["import"]["status"] == "timeout" and not report["passed"]
    hint = report["items"][0]["hint"]
    # CPU time on a quiet machine; wall-clock time first when other work shares the CPUs
    assert "imported" in hint and ("CPU time" in hint or "wall-clock" in hint)
    untouched(*instructor)


def test_endless_loop_in_backward_costs_that_item_only(tmp_path, instructor):
    path = submit(tmp_path, "class ReLU(ReLU):\n    def backward(self, dout):\n"
                            "        while True:\n            pass\n")
    rows, _ = grade(path, only=["ReLU", "Flatten"], settings=Settings(cpu=1.0))
    assert rows["ReLU"]["status"] == "timeout"
    assert "CPU time" in rows["ReLU"]["hint"] or "wall-clock" in rows["ReLU"]["hint"]
    assert rows["Flatten"]["status"] == "pass"


def test_sleeping_forever_hits_the_wall_clock(tmp_path, instructor):
    path = submit(tmp_path, "import time\n\nclass ReLU(ReLU):\n"
                            "    def backward(self, dout):\n        time.sleep(600)\n")
    rows, _ = grade(path, only=["ReLU"], settings=Settings(cpu=0.5))
    assert rows["ReLU"]["status"] == "timeout" and "wall-clock" in rows["ReLU"]["hint"]


@pytest.mark.parametrize("code, status, words", [
    ("import sys\nsys.exit(0)\n", "crashed", "called exit()"),
    ("import os\nos._exit(0)\n", "crashed", "exited (status 0)"),
    ("import ctypes\nctypes.string_at(0)\n", "crashed", "SIGSEGV"),
])
def test_exit_and_crash_at_import(tmp_path, instructor, capsys, code, status, words):
    path = submit(tmp_path, code)
    rows, _ = grade(path)
    assert rows["import"]["status"] == status and words in rows["import"]["hint"]
    assert main(["grade", path, "--timeout", "2"]) == 1
    assert words in capsys.readouterr().out


@pytest.mark.parametrize("body, status, words", [
    ("import os\nos._exit(0)", "crashed", "exited (status 0)"),
    ("import ctypes\nctypes.string_at(0)", "crashed", "SIGSEGV"),
    ("blob = bytearray(4 * 1024 ** 3)", "crashed", "out of memory"),
    ("import sys\nsys.exit(0)", "crashed", "called exit()"),
])
def test_exit_crash_memory_in_backward_cost_that_item_only(tmp_path, instructor, body, status,
                                                           words):
    body = "\n".join("        " + line for line in body.splitlines())
    path = submit(tmp_path, f"class ReLU(ReLU):\n    def backward(self, dout):\n{body}\n")
    rows, _ = grade(path, only=["ReLU", "Flatten"])
    assert rows["ReLU"]["status"] == status and words in rows["ReLU"]["hint"], rows["ReLU"]
    assert rows["Flatten"]["status"] == "pass"
    untouched(*instructor)


def test_fork_loop_and_subprocess_are_refused(tmp_path, instructor):
    path = submit(tmp_path, "import os\nfor _ in range(5):\n    if os.fork() == 0:\n"
                            "        while True:\n            pass\n")
    rows, _ = grade(path)
    assert rows["import"]["status"] == "forbidden"
    assert "start or signal another process" in rows["import"]["hint"]
    path = submit(tmp_path, "import subprocess\n\nclass ReLU(ReLU):\n"
                            "    def forward(self, x):\n"
                            "        subprocess.Popen(['sleep', '100'])\n"
                            "        return super().forward(x)\n")
    rows, _ = grade(path, only=["ReLU"])
    assert rows["ReLU"]["status"] == "forbidden"


def test_files_outside_the_folder_stay_untouched(tmp_path, instructor):
    folder, canary = instructor
    outside = tmp_path / "elsewhere.txt"
    path = submit(tmp_path, f"""
import os, shutil
for action in [lambda: os.remove({str(canary)!r}),
               lambda: open({str(folder / 'new.txt')!r}, "w").write("x"),
               lambda: open({str(canary)!r}, "a").write("x"),
               lambda: os.rename({str(canary)!r}, {str(outside)!r}),
               lambda: shutil.rmtree({str(folder)!r}),
               lambda: open("../../escape.txt", "w")]:
    try:
        action()
    except OSError:
        pass  # the student hides the refusal: the grader still knows
with open("scratch.txt", "w") as f:  # inside its own folder: allowed
    f.write("notes")
""")
    rows, report = grade(path, only=["ReLU"])
    assert rows["ReLU"]["status"] == "forbidden", rows
    assert "outside the submission's folder" in rows["ReLU"]["hint"]
    untouched(folder, canary)
    assert not outside.exists()


@pytest.mark.parametrize("code", [
    "from alexnet_np.layers import *  # noqa\n",
    "import alexnet_np.tools.grade as g\ng.GRADERS = {}\n",
    "import importlib\nL = importlib.import_module('alexnet_np.layers')\n",
    f"exec(open({REFERENCE_FILE!r}).read())\n",
    "import importlib.util\n"
    f"spec = importlib.util.spec_from_file_location('r', {REFERENCE_FILE!r})\n"
    "spec.loader.exec_module(importlib.util.module_from_spec(spec))\n",
])
def test_reaching_the_reference_is_reported(tmp_path, instructor, capsys, code):
    path = submit(tmp_path, code)
    rows, _ = grade(path)
    assert rows["import"]["status"] == "forbidden"
    assert "uses the reference implementation" in rows["import"]["hint"]
    assert main(["grade", path, "--timeout", "2", "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["passed"] is False and out["score"] == 0


def test_hidden_configuration_and_classmates_cannot_be_read(tmp_path, instructor):
    folder, _ = instructor
    config = folder / "hidden.json"
    config.write_text('{"seed": 5, "limits": {"cpu": 2}, "items": {"ReLU": {}}}')
    classmate = tmp_path / "classmate.py"
    classmate.write_text("# someone else's work\n")
    for target in [config, classmate]:
        path = submit(tmp_path, f"SECRET = open({str(target)!r}).read()\n")
        report = grade_submission(path, load_settings(str(config)), protect=[str(classmate)])
        assert [r["status"] for r in report["items"]] == ["forbidden"], report["items"]
    config.unlink()


def test_instructor_can_block_more_modules(tmp_path, instructor):
    config = tmp_path / "hw.json"
    config.write_text('{"limits": {"cpu": 2}, "sandbox": {"blocked_modules": ["colorsys"]}}')
    path = submit(tmp_path, "import colorsys\n")
    rows, _ = grade(path, settings=load_settings(str(config)))
    assert rows["import"]["status"] == "forbidden"
    assert "import colorsys" in rows["import"]["hint"]
    assert "reference" not in rows["import"]["hint"]


def test_hidden_attempt_still_fails_every_item(tmp_path, instructor):
    path = submit(tmp_path, "try:\n    import alexnet_np\nexcept ImportError:\n    pass\n")
    rows, _ = grade(path, only=["ReLU", "Flatten"])
    assert all(r["status"] == "forbidden" for r in rows.values())


def test_patched_numpy_in_the_submission_changes_nothing(tmp_path, instructor):
    path = submit(tmp_path, """
np.allclose = lambda *a, **k: True
np.array_equal = lambda *a, **k: True
np.max = lambda *a, **k: 0.0
np.abs = lambda x: 0 * x
np.isfinite = lambda x: True

class Conv2d(Conv2d):
    def forward(self, x):
        return 0 * super().forward(x)  # all wrong

    def backward(self, dout):
        super().backward(dout)
        self.grads = {"W": 0 * self.grads["W"], "b": 0 * self.grads["b"]}
        return np.zeros(self.xp.shape)
""")
    rows, _ = grade(path, only=["Conv2d"])
    assert rows["Conv2d"]["status"] == "FAIL"
    assert rows["Conv2d"]["errors"]["forward [basic]"] > 0.5


def test_writing_to_the_grader_channel_is_caught(tmp_path, instructor):
    path = submit(tmp_path, """
import os
for fd in range(3, 20):
    try:
        os.write(fd, b"\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x10garbage-garbage!")
    except OSError:
        pass
""")
    rows, _ = grade(path, only=["ReLU"])
    (row,) = rows.values()  # the import's row: the answer to the first message was garbage
    assert row["status"] == "crashed" and "unreadable answer" in row["hint"], rows
    untouched(*instructor)


def test_forged_messages_on_the_grader_channel_are_caught(tmp_path, instructor):
    path = submit(tmp_path, """
import io, json, os, struct
def forged(meta, **arrays):
    buffer = io.BytesIO()
    np.savez(buffer, meta=np.array(json.dumps(meta)), **arrays)
    return struct.pack(">Q", len(buffer.getvalue())) + buffer.getvalue()
for fd in range(3, 20):
    try:
        os.write(fd, forged({"names": ["ReLU"], "attempts": 7}))
        os.write(fd, forged({"error": "x"}))
        os.write(fd, forged({}, out=np.zeros(3)))
    except OSError:
        pass
""")
    rows, _ = grade(path, only=["ReLU", "Flatten"])
    (row,) = rows.values()
    assert row["status"] == "crashed" and "wrote to the grader's channel" in row["hint"], row
    untouched(*instructor)


def test_printing_does_not_disturb_grading(tmp_path, instructor):
    path = submit(tmp_path, "print('x' * 100000)\nclass ReLU(ReLU):\n"
                            "    def backward(self, dout):\n        print('debug', dout.shape)\n"
                            "        return super().backward(dout)\n")
    report = grade_submission(path, FAST, only=["ReLU"])
    assert report["passed"], report


def test_syntax_error_still_prints_json(tmp_path, instructor, capsys):
    path = submit(tmp_path, "class ReLU(:\n    pass\n", base="")
    assert main(["grade", path, "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["import"]["status"] == "error" and "syntax error" in out["import"]["message"]
    assert "hostile.py, line 2" in out["import"]["message"] and not out["passed"]
    config = instructor[0] / "hw.json"
    config.write_text('{"items": {"ReLU": {"points": 4}, "Linear": {"points": 6}}}')
    assert main(["grade", path, "--json", "--config", str(config)]) == 1
    out = json.loads(capsys.readouterr().out)
    assert [r["status"] for r in out["items"]] == ["error", "error"]
    assert out["max_score"] == 10 and out["score"] == 0
    config.unlink()
    untouched(*instructor)
