"""One entry point for every data set: ``load_dataset(spec, image_size, ...)`` -> ``Dataset``.

``spec`` is ``"synthetic"`` or a path; a path is recognised as
- a CIFAR-10 python folder (``batches.meta``, ``data_batch_1..5``, ``test_batch``), or a folder
  holding ``cifar-10-batches-py/``;
- an image-folder tree (``PATH/train/<class>/...``, optional ``PATH/val/<class>/...``).

Every image is decoded once, brought to S x S (sec. 2: shorter side to S, central crop) and
stored in a cache folder as uint8 ``.npy`` files that are memory-mapped on later runs, with the
mean image and the PCA of the training pixels beside them. The cache folder is
``$ALEXNET_NP_CACHE`` or ``~/.cache/alexnet-np`` unless ``cache_dir`` is given. Each entry is
keyed by a hash of what it was built from (image folder: sorted relative paths, sizes,
modification and change times, and S; CIFAR-10: the seven files' sizes and times; synthetic:
seed, counts, S and generator version), so a changed source builds a new entry and the stale
one is removed. An entry is written in a temporary folder and renamed into place, so an
interrupted build never leaves a half-written cache behind; the folders of killed builds are
removed by the next build, a damaged entry is detected and rebuilt, and a full disk is one
clear error (the disk space of the image arrays is reserved before they are written).
"""

import hashlib
import json
import os
import shutil
import socket
import sys
import time
import zipfile
from dataclasses import dataclass, field

import numpy as np

from ..errors import UserError
from ..fileio import FULL_DISK, pid_alive
from . import cifar10, imagefolder, synthetic
from .augment import compute_mean_image, compute_pca

# Bump when the cache format or the preprocessing changes; old entries are then rebuilt.
CACHE_VERSION = 1


@dataclass
class Dataset:
    """Train and val splits of one data set, as uint8 S x S images, plus their statistics."""

    name: str                 # "synthetic", "imagefolder" or "cifar10"
    source: str               # "synthetic" or the absolute path it was loaded from
    classes: list             # class names; label k is classes[k]
    image_size: int           # S, the stored side
    train_images: np.ndarray  # uint8 (N, S, S, 3), usually a read-only memmap
    train_labels: np.ndarray  # int64 (N,)
    val_images: np.ndarray    # uint8 (M, S, S, 3)
    val_labels: np.ndarray    # int64 (M,)
    mean_image: np.ndarray    # float32 (3, S, S), mean over the TRAIN split, 0..255 units
    pca_eigvals: np.ndarray   # (3,) descending, RGB covariance of train pixels in [0, 1] units
    pca_eigvecs: np.ndarray   # (3, 3), column i belongs to pca_eigvals[i]
    skipped: list = field(default_factory=list)  # paths of unreadable images left out
    cache_path: str = ""      # the cache entry the arrays are mapped from

    def summary(self):
        """One line: name, classes, split sizes, S."""
        return (f"{self.name} ({self.source}): {len(self.classes)} classes, "
                f"{len(self.train_labels)} train / {len(self.val_labels)} val images "
                f"at {self.image_size}x{self.image_size}")


def default_cache_dir():
    """``$ALEXNET_NP_CACHE`` if set, else ``~/.cache/alexnet-np``."""
    return os.environ.get("ALEXNET_NP_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "alexnet-np")


def _hash(obj):
    return hashlib.sha256(json.dumps(obj).encode()).hexdigest()[:16]


def _load_entry(entry):
    """Memory-map a complete cache entry (one with ``meta.json``); None if absent.

    A damaged entry (a file missing, truncated or garbled, by hand or by a failing disk) is
    checked for here, reported in one warning line, removed, and so rebuilt by the caller."""
    meta_file = os.path.join(entry, "meta.json")
    if not os.path.isfile(meta_file):
        return None
    try:
        with open(meta_file, encoding="utf-8") as fh:
            meta = json.load(fh)
        if not isinstance(meta, dict) or not isinstance(meta.get("classes"), list):
            raise ValueError("meta.json has no class list")
        arrays = {}
        for name in ("train_images", "val_images"):
            arrays[name] = np.load(os.path.join(entry, name + ".npy"), mmap_mode="r")
        for name in ("train_labels", "val_labels"):
            arrays[name] = np.load(os.path.join(entry, name + ".npy"))
        with np.load(os.path.join(entry, "stats.npz")) as stats:
            for name in ("mean_image", "pca_eigvals", "pca_eigvecs"):
                arrays[name] = stats[name]
        _check_entry(meta, arrays)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:
        print(f"warning: the cache entry {entry} is damaged ({type(err).__name__}: {err}); "
              "rebuilding it", file=sys.stderr)
        shutil.rmtree(entry, ignore_errors=True)
        return None
    return meta, arrays


def _check_entry(meta, arrays):
    """ValueError unless the arrays of a cache entry fit together."""
    size, k = meta.get("image_size"), len(meta["classes"])
    for split in ("train", "val"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.dtype != np.uint8 or images.shape[1:] != (size, size, 3):
            raise ValueError(f"{split}_images has shape {images.shape}")
        if labels.shape != (len(images),) or (len(labels) and not 0 <= labels.min()
                                              <= labels.max() < k):
            raise ValueError(f"{split}_labels do not match the images or the classes")
    if arrays["mean_image"].shape != (3, size, size) or arrays["pca_eigvecs"].shape != (3, 3):
        raise ValueError("stats.npz has the wrong shapes")


def _tmp_prefix():
    return f".tmp-{socket.gethostname()}-"


def _remove_stale_builds(cache_dir):
    """Delete build folders left by killed processes of this machine (their pid is gone)."""
    mine = _tmp_prefix()
    for name in os.listdir(cache_dir):
        if name.startswith(mine):
            pid = name.rsplit("-", 1)[-1]
            if pid.isdigit() and not pid_alive(int(pid)):
                shutil.rmtree(os.path.join(cache_dir, name), ignore_errors=True)


def _cached(cache_dir, name, source, size, key, build, verbose):
    """Return ``(entry, (meta, arrays), built)`` for a cache entry, building it if needed.

    ``build(tmp)`` writes ``{train,val}_{images,labels}.npy`` into the folder ``tmp`` and
    returns a dict of metadata (``classes``, ``skipped``). The mean image and PCA are computed
    here, ``meta.json`` is written last, and the folder is renamed into place. A failed build
    (a full disk...) removes its folder and raises UserError; build folders of killed
    processes are removed before a build.
    """
    cache_dir = os.path.abspath(os.path.expanduser(cache_dir or default_cache_dir()))
    prefix = f"{name}-{_hash(source)[:8]}-S{size}-"
    entry = os.path.join(cache_dir, prefix + key)
    loaded = _load_entry(entry)
    if loaded is not None:
        return entry, loaded, False
    if os.path.isdir(entry):  # entries are renamed into place whole: this one was damaged
        print(f"warning: the cache entry {entry} is incomplete; rebuilding it", file=sys.stderr)
        shutil.rmtree(entry, ignore_errors=True)
    try:
        os.makedirs(cache_dir, exist_ok=True)
        _remove_stale_builds(cache_dir)
        tmp = os.path.join(cache_dir, f"{_tmp_prefix()}{prefix}{key}-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
    except OSError as err:
        raise UserError(f"cannot write the cache folder {cache_dir} ({err.strerror}); set "
                        f"ALEXNET_NP_CACHE or --cache-dir to a writable folder") from None
    try:
        t0 = time.perf_counter()
        if verbose:
            print(f"building the {name} cache in {entry} (once; later runs map it)",
                  file=sys.stderr)
        meta = build(tmp)
        train = np.load(os.path.join(tmp, "train_images.npy"), mmap_mode="r")
        eigvals, eigvecs = compute_pca(train)
        np.savez(os.path.join(tmp, "stats.npz"), mean_image=compute_mean_image(train),
                 pca_eigvals=eigvals, pca_eigvecs=eigvecs)
        del train
        meta.update(version=CACHE_VERSION, name=name, source=source, image_size=size)
        with open(os.path.join(tmp, "meta.json"), "w", encoding="utf-8") as fh:
            json.dump(meta, fh)
        # Remove stale entries built from the same source at the same size.
        for old in os.listdir(cache_dir):
            if old.startswith(prefix) and old != prefix + key:
                shutil.rmtree(os.path.join(cache_dir, old), ignore_errors=True)
        try:
            os.replace(tmp, entry)
        except OSError:  # another process finished the same entry first
            shutil.rmtree(tmp, ignore_errors=True)
        if verbose:
            print(f"  done in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    except OSError as err:
        shutil.rmtree(tmp, ignore_errors=True)
        raise UserError(_build_failed(err, cache_dir)) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    loaded = _load_entry(entry)
    if loaded is None:
        raise UserError(f"the cache entry {entry} was damaged right after it was built; check "
                        "the disk, or set ALEXNET_NP_CACHE or --cache-dir to another folder")
    return entry, loaded, True


def _build_failed(err, cache_dir):
    """The one line for an OSError while building a cache entry (its folder is removed)."""
    why = err.strerror or str(err)
    if err.errno in FULL_DISK or "requested and" in str(err):  # numpy's short write
        why = "the disk is full"
    return (f"cannot build the data cache in {cache_dir} ({why}); free some space or set "
            "ALEXNET_NP_CACHE or --cache-dir to a folder on another disk (the partial build "
            "was removed)")


def allocate(path, shape):
    """``np.lib.format.open_memmap(path, "w+", uint8, shape)`` with its disk space reserved.

    A memory map of a sparse file dies with SIGBUS ("Bus error") when the disk fills up during
    the writes; reserving the blocks first (``posix_fallocate``) turns a full disk into an
    OSError here instead."""
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.uint8, shape=shape)
    if hasattr(os, "posix_fallocate"):
        fd = os.open(path, os.O_RDWR)
        try:
            os.posix_fallocate(fd, 0, os.fstat(fd).st_size)
        except OSError as err:
            if err.errno in FULL_DISK:
                raise
        finally:
            os.close(fd)
    return out


def _build_synthetic(seed, n_train, n_val, size):
    def build(tmp):
        for split, count in (("train", n_train), ("val", n_val)):
            images, labels = synthetic.generate_split(seed, split, count, size)
            np.save(os.path.join(tmp, f"{split}_images.npy"), images)
            np.save(os.path.join(tmp, f"{split}_labels.npy"), labels)
        return {"classes": list(synthetic.CLASSES), "skipped": []}
    return build


def _build_cifar10(path, size):
    def build(tmp):
        for split, names in (("train", cifar10.TRAIN_FILES), ("val", cifar10.VAL_FILES)):
            images, labels = cifar10.read_split(path, names, size)
            np.save(os.path.join(tmp, f"{split}_images.npy"), images)
            np.save(os.path.join(tmp, f"{split}_labels.npy"), labels)
        return {"classes": cifar10.read_class_names(path), "skipped": []}
    return build


def _build_imagefolder(classes, splits, size, verbose):
    def build(tmp):
        skipped = []
        for split, files in splits.items():
            n = len(files)
            file_name = os.path.join(tmp, f"{split}_images.npy")
            out = allocate(file_name, (n, size, size, 3))  # (N, S, S, 3)
            bad = imagefolder.decode_into([f for f, _ in files], size, out, verbose, split)
            labels = imagefolder.labels_array(files)
            if bad:
                keep = np.ones(n, dtype=bool)
                keep[[i for i, _, _ in bad]] = False
                skipped.extend(p for _, p, _ in bad)
                compact = allocate(file_name + ".part",
                                   (int(keep.sum()), size, size, 3))  # (N_ok, S, S, 3)
                compact[:] = out[keep]
                compact.flush()
                del compact
                labels = labels[keep]
                del out
                os.replace(file_name + ".part", file_name)
            else:
                out.flush()
                del out
            if len(labels) == 0 and split == "train":
                raise UserError(f"no readable training images in {os.path.dirname(tmp)}")
            np.save(os.path.join(tmp, f"{split}_labels.npy"), labels)
        if skipped:
            print(f"warning: skipped {len(skipped)} unreadable image(s) in total",
                  file=sys.stderr)
        return {"classes": classes, "skipped": skipped}
    return build


def detect(spec):
    """Which loader a spec names: ``("synthetic", "synthetic")``, ``("cifar10", path)`` or
    ``("imagefolder", path)``, with the absolute path. Raises UserError otherwise."""
    if spec == "synthetic":
        return "synthetic", "synthetic"
    path = os.path.abspath(os.path.expanduser(str(spec)))
    if not os.path.exists(path):
        raise UserError(f"data path {path} does not exist; use 'synthetic' or a folder: "
                        f"{imagefolder.LAYOUT_HELP}")
    if not os.path.isdir(path):
        raise UserError(f"data path {path} is a file, not a folder (extract archives first): "
                        f"{imagefolder.LAYOUT_HELP}")
    if cifar10.is_cifar10_folder(path):
        return "cifar10", path
    inner = os.path.join(path, "cifar-10-batches-py")
    if os.path.isdir(inner) and cifar10.is_cifar10_folder(inner):
        return "cifar10", inner
    if os.path.isdir(os.path.join(path, "train")):
        return "imagefolder", path
    raise UserError(f"{path} is neither an image folder nor CIFAR-10 (no train/ folder, no "
                    f"data_batch_* files): {imagefolder.LAYOUT_HELP}")


def load_dataset(spec, image_size, seed=0, cache_dir=None, synthetic_train=5000,
                 synthetic_val=1000, verbose=True):
    """Load (building its cache once) a data set for training and evaluation.

    Parameters
    ----------
    spec : str
        ``"synthetic"``, or a path to an image-folder tree or a CIFAR-10 python folder
        (detected automatically; see :func:`detect` and ``docs/data.md``).
    image_size : int
        S, the side of the stored square images (256 in the paper, sec. 2).
    seed : int
        Seed of the synthetic set (ignored for real data).
    cache_dir : str or None
        Where decoded images are cached; default ``$ALEXNET_NP_CACHE`` or
        ``~/.cache/alexnet-np``.
    synthetic_train, synthetic_val : int
        Sizes of the synthetic splits.
    verbose : bool
        Print progress while building a cache. Warnings about skipped files always print
        (to stderr).

    Returns
    -------
    Dataset

    Raises
    ------
    UserError
        For a missing path, an unrecognised layout, an empty class, a val class absent from
        train, an unwritable cache folder, or a bad size.
    """
    if int(image_size) != image_size or image_size < 8:
        raise UserError(f"image size must be an integer of at least 8, got {image_size}")
    image_size = int(image_size)
    name, source = detect(spec)
    if name == "synthetic":
        if synthetic_train < 1 or synthetic_val < 1:
            raise UserError(f"synthetic split sizes must be at least 1, got "
                            f"{synthetic_train} train and {synthetic_val} val")
        key = _hash([CACHE_VERSION, synthetic.GENERATOR_VERSION, seed, synthetic_train,
                     synthetic_val, image_size])
        build = _build_synthetic(seed, synthetic_train, synthetic_val, image_size)
        source_id = f"synthetic-{seed}"
    elif name == "cifar10":
        files = cifar10.cifar10_files(source)
        key = _hash([CACHE_VERSION, image_size,
                     [(os.path.basename(p), *stamp) for p, *stamp
                      in imagefolder.fingerprint_files(files)]])
        build = _build_cifar10(source, image_size)
        source_id = source
    else:
        classes, train_files, val_files = imagefolder.scan_imagefolder(source, verbose)
        rows = imagefolder.fingerprint_files([f for f, _ in train_files + val_files])
        key = _hash([CACHE_VERSION, image_size, len(train_files),
                     [(os.path.relpath(p, source), *stamp) for p, *stamp in rows]])
        build = _build_imagefolder(classes, {"train": train_files, "val": val_files},
                                   image_size, verbose)
        source_id = source
    entry, (meta, arrays), built = _cached(cache_dir, name, source_id, image_size, key, build,
                                           verbose)
    ds = Dataset(name=name, source=source, classes=list(meta["classes"]),
                 image_size=image_size, skipped=list(meta.get("skipped", [])),
                 cache_path=entry, **arrays)
    if ds.skipped and not built:
        print(f"warning: {len(ds.skipped)} unreadable image(s) were left out when the cache was "
              f"built (listed in {os.path.join(entry, 'meta.json')})", file=sys.stderr)
    if verbose:
        print(f"data: {ds.summary()}", file=sys.stderr)
    return ds
