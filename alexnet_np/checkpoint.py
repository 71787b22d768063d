"""Checkpoints: one ``.npz`` file, written atomically, readable without pickle.

Layout (all keys are plain arrays; ``allow_pickle`` stays off when loading)::

    params/<layer>.<name>     e.g. params/conv1.W (96, 3, 11, 11), params/fc8.b (1000,)
    velocity/<layer>.<name>   the SGD momentum buffers, same shapes
    mean_image                (3, S, S) float32, the training split's mean image
    meta                      a 0-d string array holding JSON: the model configuration, the
                              training settings, epoch, step, schedule state, class names, the
                              data source, RNG states, and the metrics at save time

A checkpoint is written to ``<file>.tmp`` in the same folder, flushed to disk, and renamed over
the target (``os.replace`` is atomic on POSIX): an interruption leaves either the old file or
the new one, never half of one.
"""

import json
import os
import zipfile

import numpy as np

from .errors import UserError

FORMAT = "alexnet-np checkpoint v1"


def save_checkpoint(path, params, meta, velocity=None, mean_image=None):
    """Write a checkpoint atomically. ``params``/``velocity`` are ``{"conv1.W": array}``."""
    arrays = {f"params/{k}": np.asarray(v) for k, v in params.items()}
    if velocity is not None:
        arrays.update({f"velocity/{k}": np.asarray(v) for k, v in velocity.items()})
    if mean_image is not None:
        arrays["mean_image"] = np.asarray(mean_image, dtype=np.float32)
    arrays["meta"] = np.array(json.dumps({"format": FORMAT, **meta}))
    tmp = f"{path}.tmp"
    with open(tmp, "wb") as f:
        np.savez(f, **arrays)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def load_checkpoint(path):
    """Read a checkpoint. Returns ``(params, velocity, meta, mean_image)``.

    Raises UserError (one line, what to do) for a missing, truncated or foreign file.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise UserError(f"checkpoint '{path}' does not exist; train first, or check the path "
                        "(a run folder holds last.npz and best.npz)")
    if os.path.isdir(path):
        raise UserError(f"'{path}' is a folder; pass a checkpoint file such as "
                        f"{os.path.join(path, 'best.npz')}")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as err:
        raise UserError(f"checkpoint '{path}' is damaged or not an alexnet-np checkpoint "
                        f"({type(err).__name__}: {err}); use another checkpoint, e.g. "
                        "last.npz or best.npz of the run") from None
    try:
        meta = json.loads(str(arrays.pop("meta")))
    except (KeyError, ValueError):
        raise UserError(f"checkpoint '{path}' has no readable metadata; it was not written "
                        "by alexnet-np") from None
    if meta.get("format") != FORMAT:
        raise UserError(f"checkpoint '{path}' has format {meta.get('format')!r}, expected "
                        f"{FORMAT!r}")
    params = {k[len("params/"):]: v for k, v in arrays.items() if k.startswith("params/")}
    velocity = {k[len("velocity/"):]: v for k, v in arrays.items() if k.startswith("velocity/")}
    if not params:
        raise UserError(f"checkpoint '{path}' holds no parameters")
    return params, velocity, meta, arrays.get("mean_image")


class RunLog:
    """Appends JSON lines to ``RUN_DIR/metrics.jsonl``."""

    def __init__(self, path):
        self.path = path

    def write(self, record):
        with open(self.path, "a") as f:
            f.write(json.dumps(record) + "\n")


def read_metrics(run_dir):
    """All records of ``metrics.jsonl`` (a missing file gives an empty list)."""
    path = os.path.join(run_dir, "metrics.jsonl")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def _truncate_metrics(path, max_step):
    """Drop lines logged after ``max_step`` (steps of an epoch that a resume will redo)."""
    if not os.path.exists(path):
        return
    with open(path) as f:
        lines = [ln for ln in f if ln.strip()]
    keep = [ln for ln in lines if json.loads(ln).get("step", 0) <= max_step]
    with open(path, "w") as f:
        f.writelines(keep)
