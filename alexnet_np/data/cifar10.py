"""CIFAR-10, "python version" (https://www.cs.toronto.edu/~kriz/cifar.html).

The folder ``cifar-10-batches-py`` as it unpacks from ``cifar-10-python.tar.gz``::

    data_batch_1 .. data_batch_5   training, 10000 images each
    test_batch                     used as the validation split, 10000 images
    batches.meta                   {"label_names": [...]}

Each batch is a pickled dict with ``b"data"``, uint8 ``(10000, 3072)`` (1024 red, 1024 green,
1024 blue values, row-major 32 x 32), and ``b"labels"``, a list of ints. The files are pickles:
only load a CIFAR folder you trust (the official archive is fine).

The paper used CIFAR-10 for Fig. 1 (ReLU vs tanh) and for LRN (sec. 3.3). The 32 x 32 images
are resized to S x S (no-op at S = 32) so the same preprocessing path serves every data set.
"""

import os
import pickle

import numpy as np
from PIL import Image

from ..errors import UserError

TRAIN_FILES = [f"data_batch_{i}" for i in range(1, 6)]
VAL_FILES = ["test_batch"]
META_FILE = "batches.meta"


def is_cifar10_folder(path):
    """True if ``path`` looks like a CIFAR-10 python folder (has batches.meta or a batch)."""
    return any(os.path.isfile(os.path.join(path, f)) for f in [META_FILE, *TRAIN_FILES])


def cifar10_files(path):
    """The paths of all seven CIFAR-10 files; a missing one is a UserError naming it."""
    names = [META_FILE, *TRAIN_FILES, *VAL_FILES]
    missing = [n for n in names if not os.path.isfile(os.path.join(path, n))]
    if missing:
        raise UserError(f"{path} looks like a CIFAR-10 python folder but lacks "
                        f"{', '.join(missing)}: expected data_batch_1..5, test_batch and "
                        f"batches.meta (from cifar-10-python.tar.gz)")
    return [os.path.join(path, n) for n in names]


def _unpickle(file):
    try:
        with open(file, "rb") as fh:
            return pickle.load(fh, encoding="bytes")
    except Exception as err:  # any failure here is a damaged file
        raise UserError(f"cannot read CIFAR-10 file {file} ({type(err).__name__}: {err}); "
                        f"re-extract cifar-10-python.tar.gz") from None


def read_class_names(path):
    """The ten class names from ``batches.meta``."""
    meta = _unpickle(os.path.join(path, META_FILE))
    names = meta.get(b"label_names", meta.get("label_names"))
    if names is None:
        raise UserError(f"{os.path.join(path, META_FILE)} has no label_names")
    return [n.decode() if isinstance(n, bytes) else str(n) for n in names]


def read_batch(file):
    """One batch file -> ``(images uint8 (N, 32, 32, 3), labels int64 (N,))``."""
    d = _unpickle(file)
    try:
        data = np.asarray(d[b"data"], dtype=np.uint8)  # (N, 3072)
        labels = np.asarray(d[b"labels"], dtype=np.int64)  # (N,)
        images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)  # (N, 32, 32, 3)
    except (KeyError, ValueError, TypeError) as err:
        raise UserError(f"CIFAR-10 file {file} is not a data batch ({err}); "
                        f"re-extract cifar-10-python.tar.gz") from None
    if len(labels) != len(images):
        raise UserError(f"CIFAR-10 file {file}: {len(images)} images but {len(labels)} labels")
    return images, labels


def resize_square(images, size):
    """Resize square uint8 HWC images to ``size x size`` (bilinear). ``(N, s, s, 3)`` in."""
    if images.shape[1] == size:
        return np.ascontiguousarray(images)
    out = np.empty((len(images), size, size, 3), dtype=np.uint8)  # (N, S, S, 3)
    for i, img in enumerate(images):
        out[i] = np.asarray(Image.fromarray(img).resize((size, size), Image.Resampling.BILINEAR))
    return out


def read_split(path, names, size):
    """Read and concatenate batch files ``names``, resized to S. Returns (images, labels)."""
    parts = [read_batch(os.path.join(path, n)) for n in names]
    images = np.concatenate([p[0] for p in parts])  # (N, 32, 32, 3)
    labels = np.concatenate([p[1] for p in parts])
    return resize_square(images, size), labels
