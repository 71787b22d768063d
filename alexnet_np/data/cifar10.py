"""CIFAR-10, "python version" (https://www.cs.toronto.edu/~kriz/cifar.html).

The folder ``cifar-10-batches-py`` as it unpacks from ``cifar-10-python.tar.gz``::

    data_batch_1 .. data_batch_5   training, 10000 images each
    test_batch                     used as the validation split, 10000 images
    batches.meta                   {"label_names": [...]}

Each batch is a pickled dict with ``b"data"``, uint8 ``(10000, 3072)`` (1024 red, 1024 green,
1024 blue values, row-major 32 x 32), and ``b"labels"``, a list of ints. The files are pickles,
read with an Unpickler that allows only what the official files contain (arrays, lists,
bytes, ints), so a doctored file cannot run code; values and labels are range-checked.

The paper used CIFAR-10 for Fig. 1 (ReLU vs tanh) and for LRN (sec. 3.3). The 32 x 32 images
are resized to S x S (no-op at S = 32) so the same preprocessing path serves every data set.
"""

import os
import pickle

import numpy as np
from PIL import Image

from ..errors import UserError
from ..fileio import open_regular

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


# The only globals the official files (and NumPy re-pickles of them) refer to: how an ndarray
# or a NumPy scalar is rebuilt. Anything else in a pickle (os.system...) is refused before it
# can run.
ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode"),
}


class _ArraysOnly(pickle.Unpickler):
    """An Unpickler for CIFAR-10 batches: dicts, lists, bytes, str, ints and NumPy arrays."""

    def find_class(self, module, name):
        if (module, name) not in ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f"refused to load {module}.{name} (a CIFAR-10 batch "
                                         "holds only arrays, lists, bytes and ints)")
        return super().find_class(module, name)


def _unpickle(file):
    try:
        with open_regular(file, "CIFAR-10 file") as fh:
            return _ArraysOnly(fh, encoding="bytes").load()
    except UserError:
        raise
    except Exception as err:  # any failure here is a damaged file
        raise UserError(f"cannot read CIFAR-10 file {file} ({type(err).__name__}: {err}); "
                        f"re-extract cifar-10-python.tar.gz") from None


def read_class_names(path):
    """The ten class names from ``batches.meta``."""
    file = os.path.join(path, META_FILE)
    meta = _unpickle(file)
    names = meta.get(b"label_names", meta.get("label_names")) if isinstance(meta, dict) else None
    if not isinstance(names, (list, tuple)) or len(names) != 10:
        raise UserError(f"{file} does not hold the ten label_names of CIFAR-10; re-extract "
                        "cifar-10-python.tar.gz")
    return [n.decode(errors="replace") if isinstance(n, bytes) else str(n) for n in names]


def read_batch(file):
    """One batch file -> ``(images uint8 (N, 32, 32, 3), labels int64 (N,))``.

    ``data`` is ``(N, 3072)`` as shipped (channel planes), or explicitly ``(N, 3, 32, 32)``
    or ``(N, 32, 32, 3)``; values must be whole numbers in 0..255 and labels in 0..9.
    """
    d = _unpickle(file)

    def bad(why):
        return UserError(f"CIFAR-10 file {file} is not a data batch ({why}); re-extract "
                         "cifar-10-python.tar.gz")

    if not isinstance(d, dict) or b"data" not in d or b"labels" not in d:
        raise bad("no data and labels")
    try:
        data = np.asarray(d[b"data"])
        labels = np.asarray(d[b"labels"])
    except (ValueError, TypeError) as err:
        raise bad(err) from None
    if data.dtype.kind not in "uif" or labels.dtype.kind not in "ui" or labels.ndim != 1:
        raise bad(f"data of dtype {data.dtype}, labels of dtype {labels.dtype}")
    if data.ndim == 2 and data.shape[1] == 3072:
        images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)  # (N, 32, 32, 3)
    elif data.ndim == 4 and data.shape[1:] == (3, 32, 32):
        images = data.transpose(0, 2, 3, 1)  # (N, 32, 32, 3)
    elif data.ndim == 4 and data.shape[1:] == (32, 32, 3):
        images = data  # already channels-last
    else:
        raise bad(f"data has shape {data.shape}, expected (N, 3072)")
    if images.size and (images.min() < 0 or images.max() > 255
                        or (data.dtype.kind == "f" and not np.all(images == np.rint(images)))):
        raise bad("pixel values outside the whole numbers 0..255")
    if len(labels) != len(images):
        raise UserError(f"CIFAR-10 file {file}: {len(images)} images but {len(labels)} labels")
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise bad(f"labels from {labels.min()} to {labels.max()}, outside 0..9")
    return images.astype(np.uint8), labels.astype(np.int64)


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
