"""Every lesson runs with --quick, passes its self-checks and writes its figures."""

import glob
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LESSONS = sorted(glob.glob(os.path.join(ROOT, "lessons", "[0-9][0-9]_*.py")))


def test_there_are_at_least_twelve_numbered_lessons():
    assert len(LESSONS) >= 12
    numbers = [int(os.path.basename(p)[:2]) for p in LESSONS]
    assert numbers == list(range(1, len(LESSONS) + 1))


@pytest.mark.parametrize("path", LESSONS, ids=[os.path.basename(p) for p in LESSONS])
def test_lesson_runs_quick(path, tmp_path):
    env = {**os.environ, "PYTHONPATH": ROOT, "MPLBACKEND": "Agg"}
    proc = subprocess.run([sys.executable, path, "--quick", "--out", str(tmp_path)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "SELF-CHECK FAILED" not in proc.stdout
    assert "done: every self-check passed" in proc.stdout
    assert glob.glob(os.path.join(str(tmp_path), "*.png")), "no figure written"
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    assert "# %%" in text and "def main(argv=None)" in text
