"""Helpers of the hostile-input tests (tests/test_hostile_*.py): run the command line in this
process or in a child, check that a refusal is one line, tamper with checkpoints, mount a
small disk."""

import contextlib
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from alexnet_np import cli
from alexnet_np.train import TrainSettings, train

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# A tiny run: micro preset, 64 synthetic training images, 4 steps per epoch.
MICRO = dict(arch="micro", synthetic_train=64, synthetic_val=16, batch_size=16, epochs=1,
             log_every=1, progress=False)
MICRO_FLAGS = ["--arch", "micro", "--train-size", "64", "--val-size", "16", "--batch-size",
               "16", "--log-every", "1", "--quiet"]


def quiet(_msg):
    pass


def train_micro(out, cache, **kw):
    return train(TrainSettings(**{**MICRO, "out": str(out), "cache_dir": str(cache), **kw}),
                 log=quiet)


def main(argv):
    """``alexnet_np.cli.main`` in this process; the exit status (argparse's too)."""
    try:
        return cli.main([str(a) for a in argv])
    except SystemExit as stop:
        return stop.code


def check_refusal(command, status, err, needles=()):
    """Non-zero status, no traceback, exactly one ``alexnet-np CMD[ SUB]: error: ...`` line
    (warning lines aside) holding every needle."""
    assert status not in (0, None), err
    assert "Traceback" not in err, err
    lines = [ln for ln in err.splitlines() if ln.strip() and not ln.startswith("warning:")]
    assert len(lines) == 1, err
    assert lines[0].startswith(f"alexnet-np {command}") and ": error: " in lines[0], err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def refused(capsys, argv, *needles):
    """Run the CLI in-process and check a one-line refusal; returns (line, stdout)."""
    status = main(argv)
    out, err = capsys.readouterr()
    return check_refusal(argv[0], status, err, needles), out


def run_child(argv, timeout=120, **kw):
    """The CLI in a child process (for hangs and signals), with a timeout."""
    env = {**os.environ, "PYTHONPATH": ROOT, "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, "-m", "alexnet_np", *map(str, argv)],
                          capture_output=True, text=True, timeout=timeout, env=env, **kw)


def arrays_of(path):
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def meta_of(path):
    return json.loads(str(arrays_of(path)["meta"]))


def tamper(src, dst, drop=(), meta=None, **arrays):
    """Copy checkpoint ``src`` to ``dst`` with arrays replaced (``params__conv1.W=...`` for
    ``params/conv1.W``), keys dropped, or the metadata replaced (any JSON value)."""
    data = arrays_of(src)
    for key in drop:
        data.pop(key)
    data.update({k.replace("__", "/"): v for k, v in arrays.items()})
    if meta is not None:
        data["meta"] = np.array(json.dumps(meta))
    np.savez(dst, **data)
    return dst


def copy_run(run_dir, dst):
    shutil.copytree(run_dir, dst)
    return dst


@contextlib.contextmanager
def small_disk(path, size="1m", options=""):
    """A tmpfs of ``size`` mounted at ``path`` (root only); skips the test where mounting is
    refused."""
    os.makedirs(path, exist_ok=True)
    opts = f"size={size}" + (f",{options}" if options else "")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(path)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({done.stderr.strip() or 'not root'})")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def fill_disk(folder, leave=0):
    """Fill the file system of ``folder`` up to ``leave`` free bytes."""
    st = os.statvfs(folder)
    free = st.f_bavail * st.f_frsize
    with open(os.path.join(folder, "filler"), "wb") as f:
        with contextlib.suppress(OSError):
            f.write(b"\0" * max(free - leave, 0))
