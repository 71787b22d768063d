"""Checkpoints: one ``.npz`` file, written atomically, readable without pickle.

Layout (all keys are plain arrays; ``allow_pickle`` stays off when loading)::

    params/<layer>.<name>     e.g. params/conv1.W (96, 3, 11, 11), params/fc8.b (1000,)
    velocity/<layer>.<name>   the SGD momentum buffers, same shapes
    mean_image                (3, S, S) float32, the training split's mean image
    meta                      a 0-d string array holding JSON: the model configuration, the
                              training settings, epoch, step, schedule state, class names, the
                              data source, RNG states, and the metrics at save time

A checkpoint is written to ``<file>.tmp-<pid>-<random>`` in the same folder, flushed to disk,
and renamed over the target (``os.replace`` is atomic on POSIX): an interruption leaves either
the old file or the new one, never half of one. Loading reads every array's header first and
refuses non-float arrays and headers that claim more data than the file holds (no huge
allocation); :func:`check_arrays` then checks names, shapes and finiteness against the model.
"""

import json
import math
import os
import zipfile

import numpy as np

from .errors import UserError
from .fileio import open_regular, remove_quietly, tmp_name, write_error

FORMAT = "alexnet-np checkpoint v1"


def save_checkpoint(path, params, meta, velocity=None, mean_image=None):
    """Write a checkpoint atomically. ``params``/``velocity`` are ``{"conv1.W": array}``.

    A failed write (full disk...) removes its temporary file, leaves the old checkpoint as it
    was and raises UserError (one line).
    """
    arrays = {f"params/{k}": np.asarray(v) for k, v in params.items()}
    if velocity is not None:
        arrays.update({f"velocity/{k}": np.asarray(v) for k, v in velocity.items()})
    if mean_image is not None:
        arrays["mean_image"] = np.asarray(mean_image, dtype=np.float32)
    arrays["meta"] = np.array(json.dumps({"format": FORMAT, **meta}))
    path = os.fspath(path)
    tmp = tmp_name(path)
    try:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as err:
        remove_quietly(tmp)
        raise write_error(err, path, "checkpoint") from None
    except BaseException:
        remove_quietly(tmp)
        raise


def _damaged(path, why):
    return UserError(f"checkpoint '{path}' is damaged or not an alexnet-np checkpoint ({why}); "
                     "use another checkpoint, e.g. last.npz or best.npz of the run")


def _check_headers(path, fh):
    """Read every array's header (no data): refuse object, string (except ``meta``) and
    complex arrays, and headers that claim more bytes than the file holds."""
    with zipfile.ZipFile(fh) as zf:
        for info in zf.infolist():
            name = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
            with zf.open(info) as member:
                version = np.lib.format.read_magic(member)
                read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                        else np.lib.format.read_array_header_2_0)
                shape, _, dtype = read(member)
            kind = "U" if name == "meta" else "f"
            if dtype.kind != kind or dtype.hasobject:
                raise _damaged(path, f"array '{name}' has dtype {dtype}, expected "
                                     f"{'a string' if kind == 'U' else 'floating point'}")
            claimed = math.prod(shape) * dtype.itemsize
            if claimed > info.file_size or claimed > 100 * info.compress_size + 2**20:
                raise _damaged(path, f"array '{name}' claims shape {shape}, more than the "
                                     f"{info.compress_size} bytes stored")


def load_checkpoint(path):
    """Read a checkpoint. Returns ``(params, velocity, meta, mean_image)``.

    Raises UserError (one line, what to do) for a missing, truncated or foreign file, for
    arrays that are not floating point, and for metadata that is not a JSON object.
    Use :func:`check_arrays` to check the arrays against a model.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        raise UserError(f"'{path}' is a folder; pass a checkpoint file such as "
                        f"{os.path.join(path, 'best.npz')}")
    if not os.path.lexists(path):
        raise UserError(f"checkpoint '{path}' does not exist; train first, or check the path "
                        "(a run folder holds last.npz and best.npz)")
    with open_regular(path, "checkpoint") as fh:
        if fh.read(6) == b"\x93NUMPY":
            raise _damaged(path, "a single .npy array, not an .npz archive")
        fh.seek(0)
        try:
            _check_headers(path, fh)
            fh.seek(0)
            with np.load(fh, allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
        except UserError:
            raise
        except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as err:
            raise _damaged(path, f"{type(err).__name__}: {err}") from None
    try:
        meta = json.loads(str(arrays.pop("meta")))
    except (KeyError, ValueError):
        raise UserError(f"checkpoint '{path}' has no readable metadata; it was not written "
                        "by alexnet-np") from None
    if not isinstance(meta, dict):
        raise _damaged(path, "its metadata is not a JSON object")
    if meta.get("format") != FORMAT:
        raise UserError(f"checkpoint '{path}' has format {meta.get('format')!r}, expected "
                        f"{FORMAT!r}")
    params = {k[len("params/"):]: v for k, v in arrays.items() if k.startswith("params/")}
    velocity = {k[len("velocity/"):]: v for k, v in arrays.items() if k.startswith("velocity/")}
    if not params:
        raise UserError(f"checkpoint '{path}' holds no parameters")
    return params, velocity, meta, arrays.get("mean_image")


def read_meta(path):
    """Only the metadata of a checkpoint (the arrays are not read); UserError if unreadable."""
    path = os.fspath(path)
    with open_regular(path, "checkpoint") as fh:
        try:
            with np.load(fh, allow_pickle=False) as data:
                meta = json.loads(str(data["meta"]))
        except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError, TypeError) as err:
            raise _damaged(path, f"{type(err).__name__}: {err}") from None
    if not isinstance(meta, dict):
        raise _damaged(path, "its metadata is not a JSON object")
    return meta


# What each use of a checkpoint needs in its metadata: key -> accepted JSON types.
META_FOR_INFERENCE = {"model": dict, "classes": list, "data": dict}
META_FOR_RESUME = {**META_FOR_INFERENCE, "settings": dict, "epoch": int, "step": int,
                   "schedule": dict, "rng": dict, "best_top1_error": (int, float)}


def check_meta(path, meta, resume=False):
    """UserError unless ``meta`` has what inference (or, with ``resume``, training) needs."""
    need = META_FOR_RESUME if resume else META_FOR_INFERENCE
    for key, types in need.items():
        value = meta.get(key)
        if not isinstance(value, types) or isinstance(value, bool):
            found = "missing" if value is None else f"a {type(value).__name__}"
            raise _damaged(path, f"metadata '{key}' is {found}")
    if not all(isinstance(c, str) for c in meta["classes"]) or not meta["classes"]:
        raise _damaged(path, "metadata 'classes' is not a list of class names")
    if not isinstance(meta["data"].get("source"), str):
        raise _damaged(path, "metadata data.source is not a path or 'synthetic'")
    size = meta["data"].get("image_size")
    if not isinstance(size, int) or isinstance(size, bool) or not 8 <= size <= 4096:
        raise _damaged(path, f"metadata data.image_size is {size!r}")
    if resume and (meta["epoch"] < 0 or meta["step"] < 0):
        raise _damaged(path, "negative epoch or step")


def check_arrays(path, model_params, arrays, what="parameters"):
    """UserError unless ``arrays`` has exactly the names, shapes of ``model_params`` and only
    finite values (what a model or optimizer may load)."""
    missing = sorted(set(model_params) - set(arrays))
    extra = sorted(set(arrays) - set(model_params))
    if missing or extra:
        raise _damaged(path, f"{what}: {len(missing)} missing (e.g. {missing[:2]}), "
                             f"{len(extra)} unexpected (e.g. {extra[:2]})")
    for name, own in model_params.items():
        a = arrays[name]
        if a.shape != own.shape:
            raise _damaged(path, f"{what} '{name}' has shape {a.shape}, the model needs "
                                 f"{own.shape}")
        if not np.all(np.isfinite(a)):
            raise _damaged(path, f"{what} '{name}' holds NaN or infinite values")


def check_mean_image(path, mean_image, image_size):
    """UserError unless the mean image is a finite ``(3, S, S)`` array."""
    if mean_image is None:
        raise _damaged(path, "no mean_image")
    if mean_image.shape != (3, image_size, image_size) or not np.all(np.isfinite(mean_image)):
        raise _damaged(path, f"mean_image has shape {mean_image.shape} (expected "
                             f"(3, {image_size}, {image_size})) or non-finite values")


class RunLog:
    """Appends JSON lines to ``RUN_DIR/metrics.jsonl``."""

    def __init__(self, path):
        self.path = path

    def write(self, record):
        try:
            with open(self.path, "a") as f:
                f.write(json.dumps(record) + "\n")
        except OSError as err:
            raise write_error(err, self.path, "the metrics log") from None


def _records(lines):
    """The JSON objects among ``lines``; a damaged line (a half-written last line after a
    full disk or a crash) is dropped."""
    out = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            out.append((line if line.endswith("\n") else line + "\n", record))
    return out


def read_metrics(run_dir):
    """All records of ``metrics.jsonl`` (a missing file gives an empty list; damaged lines
    are dropped)."""
    path = os.path.join(run_dir, "metrics.jsonl")
    if not os.path.isfile(path):
        return []
    with open(path, errors="replace") as f:
        return [r for _, r in _records(f)]


def _truncate_metrics(path, max_step):
    """Drop lines logged after ``max_step`` (steps of an epoch that a resume will redo) and
    damaged lines; the file is rewritten atomically."""
    if not os.path.exists(path):
        return
    with open(path, errors="replace") as f:
        keep = [ln for ln, r in _records(f) if isinstance(r.get("step", 0), int)
                and r.get("step", 0) <= max_step]
    tmp = tmp_name(path)
    try:
        with open(tmp, "w") as f:
            f.writelines(keep)
        os.replace(tmp, path)
    except OSError as err:
        remove_quietly(tmp)
        raise write_error(err, path, "the metrics log") from None
