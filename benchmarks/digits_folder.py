"""Write scikit-learn's 1,797 handwritten digits (8x8, 17 grey levels) as an image folder.

    pip install scikit-learn          # for this script only; not a dependency of alexnet-np
    python benchmarks/digits_folder.py --out data/digits
    alexnet-np train --data data/digits --arch cifar --no-flip --no-pca --epochs 3

The set is the UCI "Optical Recognition of Handwritten Digits" test set as scikit-learn ships it
(``sklearn.datasets.load_digits``): 1,797 real digits written by 43 people, 8x8 pixels with
values 0..16 (0 = background). Each image becomes an 8-bit greyscale PNG (value * 255 / 16:
white ink on black, as in MNIST) at ``--size`` pixels (nearest-neighbour
upscaling keeps the 8x8 cells visible; alexnet-np then resizes it to the preset's stored size).
The split is fixed and balanced: the first ``--val-fraction`` of each class (in the order
scikit-learn gives) goes to val/, the rest to train/::

    OUT/train/<0..9>/<index>.png      1,437 images by default
    OUT/val/<0..9>/<index>.png          360 images
"""

import argparse
import os
import sys

import numpy as np
from PIL import Image


def load_digits_or_exit():
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        sys.exit("this script reads the digits that scikit-learn ships: pip install "
                 "scikit-learn (it is not a dependency of alexnet-np)")
    d = load_digits()
    return d.images, d.target  # (1797, 8, 8) float 0..16, (1797,) int


def split_indices(labels, val_fraction):
    """(train indices, val indices): the first ``val_fraction`` of each class goes to val."""
    train, val = [], []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        n_val = int(round(val_fraction * len(idx)))
        val.extend(idx[:n_val])
        train.extend(idx[n_val:])
    return np.sort(train), np.sort(val)


def write_folder(images, labels, out, size=32, val_fraction=0.2):
    """Write the PNG tree; returns (train count, val count)."""
    train, val = split_indices(labels, val_fraction)
    for split, idx in (("train", train), ("val", val)):
        for i in idx:
            folder = os.path.join(out, split, str(int(labels[i])))
            os.makedirs(folder, exist_ok=True)
            pixels = np.clip(np.rint(images[i] * 255 / 16), 0, 255).astype(np.uint8)  # (8, 8)
            img = Image.fromarray(pixels).resize((size, size), Image.Resampling.NEAREST)
            img.save(os.path.join(folder, f"{i:04d}.png"))
    return len(train), len(val)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True, help="folder to create (train/ and val/ inside)")
    p.add_argument("--size", type=int, default=32, help="side of the written PNGs (default 32)")
    p.add_argument("--val-fraction", type=float, default=0.2,
                   help="share of each class held out for val/ (default 0.2)")
    args = p.parse_args(argv)
    if os.path.exists(os.path.join(args.out, "train")):
        sys.exit(f"{args.out}/train already exists; choose another --out or remove it")
    images, labels = load_digits_or_exit()
    n_train, n_val = write_folder(images, labels, args.out, args.size, args.val_fraction)
    print(f"wrote {n_train} train / {n_val} val digit images to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
