"""Image-folder data sets: the ImageNet / Imagenette layout, and Tiny ImageNet's val/ layout.

Accepted layout (class names are the folder names, sorted; labels are their indices)::

    PATH/train/<class>/**/<image files>     required; files may sit in sub-folders
    PATH/val/<class>/**/<image files>       optional; every class must also be in train/

Tiny ImageNet's validation folder is recognised as it ships::

    PATH/val/images/*.JPEG  +  PATH/val/val_annotations.txt   (file name TAB class ...)

With no ``val/`` folder, every tenth training image of each class (in sorted order) is held
out as validation, and a note says so.

Image files are recognised by extension (``IMAGE_EXTENSIONS``, any case); anything else (text
files, Tiny ImageNet's ``*_boxes.txt``, hidden files such as macOS ``._*``) is ignored. An image
that cannot be decoded is skipped with a warning naming it, and counted.
"""

import os
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PIL import Image

from ..errors import UserError
from ..fileio import check_regular, open_regular
from .augment import resize_shorter_and_center_crop

IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp",
                    ".ppm", ".pgm", ".pbm", ".pnm", ".jfif"}

LAYOUT_HELP = (
    "expected PATH/train/<class>/<images> (and optionally PATH/val/<class>/<images>), as in "
    "ImageNet or Imagenette, or a CIFAR-10 python folder (data_batch_1..5, test_batch, "
    "batches.meta); see docs/data.md"
)


def is_image_file(name):
    """True for a non-hidden file name with an image extension (case-insensitive)."""
    return not name.startswith(".") and os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


def _unreadable_folder(err):
    raise UserError(f"cannot read folder {err.filename} ({err.strerror}); fix its permissions "
                    "(chmod) or move it out of the data folder")


def _image_files_under(folder):
    """Sorted paths of image files below ``folder`` (recursively, skipping hidden folders).

    Only regular files (or links to them) count: a FIFO named like an image would block the
    decoder forever, a dangling link or a link loop cannot be read. Each is skipped with a
    warning naming it. An unreadable folder is a UserError (its images would go missing)."""
    found = []
    for root, dirs, files in os.walk(folder, onerror=_unreadable_folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for f in sorted(files):
            if not is_image_file(f):
                continue
            path = os.path.join(root, f)
            why = check_regular(path)
            if why is None:
                found.append(path)
            else:
                print(f"warning: skipping {path} ({why})", file=sys.stderr)
    return found


def _class_folders(split_dir):
    """Sorted names of the non-hidden sub-folders of ``split_dir``."""
    try:
        names = os.listdir(split_dir)
    except OSError as err:
        _unreadable_folder(err)
    return sorted(d for d in names
                  if not d.startswith(".") and os.path.isdir(os.path.join(split_dir, d)))


def _scan_tiny_imagenet_val(val_dir, class_index):
    """Tiny ImageNet's ``val/images`` + ``val_annotations.txt`` -> list of (path, label)."""
    files = []
    ann = os.path.join(val_dir, "val_annotations.txt")
    with open_regular(ann, "annotation file") as raw:
        lines = raw.read().decode("utf-8", errors="replace").splitlines()
        for lineno, line in enumerate(lines, 1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) < 2:
                raise UserError(f"{ann}, line {lineno}: expected 'FILE CLASS ...', got {line!r}")
            name, cls = parts[0], parts[1]
            if cls not in class_index:
                raise UserError(f"class {cls!r} in {ann} is not a folder in train/; "
                                f"every val class must also be a train class")
            path = os.path.join(val_dir, "images", name)
            if is_image_file(name) and os.path.isfile(path):
                files.append((path, class_index[cls]))
    return files


def scan_imagefolder(path, verbose=True):
    """List the files of an image-folder data set, checking the layout.

    Returns
    -------
    classes : list of str
        Sorted class names (the folders of ``train/``).
    train_files, val_files : list of (path, label)

    Raises
    ------
    UserError
        No ``train/``, no class folders, an empty class folder, or a val class not in train.
    """
    train_dir = os.path.join(path, "train")
    if not os.path.isdir(train_dir):
        raise UserError(f"no train/ folder in {path}: {LAYOUT_HELP}")
    classes = _class_folders(train_dir)
    if not classes:
        raise UserError(f"{train_dir} has no class folders: {LAYOUT_HELP}")
    class_index = {c: i for i, c in enumerate(classes)}
    train_files = []
    for c in classes:
        files = _image_files_under(os.path.join(train_dir, c))
        if not files:
            raise UserError(f"class folder {os.path.join(train_dir, c)} has no image files "
                            f"({', '.join(sorted(IMAGE_EXTENSIONS))}); add images or remove it")
        train_files.extend((f, class_index[c]) for f in files)

    val_dir = os.path.join(path, "val")
    val_files = []
    if os.path.isfile(os.path.join(val_dir, "val_annotations.txt")):
        val_files = _scan_tiny_imagenet_val(val_dir, class_index)
    elif os.path.isdir(val_dir):
        for c in _class_folders(val_dir):
            if c not in class_index:
                raise UserError(f"class {c!r} is in {val_dir} but not in {train_dir}; "
                                f"every val class must also be a train class")
            files = _image_files_under(os.path.join(val_dir, c))
            if not files:
                raise UserError(f"class folder {os.path.join(val_dir, c)} has no image files; "
                                f"add images or remove it")
            val_files.extend((f, class_index[c]) for f in files)
        if not val_files:
            raise UserError(f"{val_dir} has no class folders with images: {LAYOUT_HELP}")
    else:
        # Hold out every tenth image of each class (sorted order), deterministically.
        keep, held = [], []
        counts = {}
        for f, label in train_files:
            k = counts.get(label, 0)
            counts[label] = k + 1
            (held if k % 10 == 9 else keep).append((f, label))
        train_files, val_files = keep, held
        if verbose:
            print(f"note: no val/ folder in {path}; holding out {len(held)} training images "
                  f"(every tenth of each class) as validation", file=sys.stderr)
    return classes, train_files, val_files


def load_image(path, size):
    """Open an image file and return it as uint8 ``(size, size, 3)`` (see sec. 2 resize).
    Only a regular file is opened (see :func:`alexnet_np.fileio.open_regular`)."""
    with open_regular(path, "image") as fh, Image.open(fh) as img:
        return resize_shorter_and_center_crop(img, size)


def decode_into(files, size, out, verbose=True, what="images"):
    """Decode ``files`` (paths) into ``out[i]`` (uint8 ``(N, S, S, 3)``), in parallel threads.

    Pillow releases the GIL while decoding and resizing, so threads use every core. A file
    that cannot be decoded is skipped with a warning naming it; its row is left unset.

    Returns the list of ``(index, path, reason)`` of the skipped files.
    """
    n = len(files)

    def work(i):
        try:
            out[i] = load_image(files[i], size)
            return None
        except Exception as err:  # any decoder failure means "skip this file"
            return (i, files[i], f"{type(err).__name__}: {err}")

    skipped = []
    step = max(1, n // 10)
    workers = min(8, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for done, result in enumerate(pool.map(work, range(n), chunksize=64), 1):
            if result is not None:
                skipped.append(result)
                print(f"warning: skipping unreadable image {result[1]} ({result[2]})",
                      file=sys.stderr)
            if verbose and (done % step == 0 or done == n) and n >= 1000:
                print(f"  decoded {done}/{n} {what}", file=sys.stderr)
    return skipped


def fingerprint_files(paths):
    """``(path, size, mtime_ns, ctime_ns)`` for each path: the cache key of an image folder.

    The change time (ctime) is the cheap content check: any write to a file sets it to "now",
    and no tool can set it back (``cp -p``, ``rsync -t`` and ``touch -r`` restore the
    modification time only), so an edit that keeps the size and the mtime still changes the
    key. A file that vanished since the scan is a UserError naming it."""
    rows = []
    for p in paths:
        try:
            st = os.stat(p)
        except OSError as err:
            raise UserError(f"cannot read {p} ({err.strerror}); it changed while the data set "
                            "was being scanned: run again") from None
        rows.append((p, st.st_size, st.st_mtime_ns, st.st_ctime_ns))
    return rows


def labels_array(files):
    """The labels of a ``[(path, label), ...]`` list as int64 ``(N,)``."""
    return np.array([label for _, label in files], dtype=np.int64)
