"""Data for alexnet-np: the synthetic default set, image folders, CIFAR-10, and the paper's
preprocessing and augmentation (sec. 2 and 4.1). See ``docs/data.md``.

    ds = load_dataset("synthetic" | PATH, image_size)          # Dataset, cached as uint8
    for x, y in BatchLoader(ds, "train", 128, 227, rng=rng):   # float32 NCHW, augmented
        ...
"""

from .augment import (
    PCA_ALPHA_STD,
    center_crop,
    compute_mean_image,
    compute_pca,
    crop_batch,
    horizontal_flip,
    pca_color,
    pca_color_delta,
    random_crop,
    random_crop_offsets,
    resize_shorter_and_center_crop,
    ten_crop,
    to_rgb,
)
from .dataset import Dataset, default_cache_dir, detect, load_dataset
from .loader import BatchLoader
from .preprocess import preprocess_image
from .synthetic import CLASSES as SYNTHETIC_CLASSES

__all__ = [
    "load_dataset", "Dataset", "BatchLoader", "detect", "default_cache_dir",
    "preprocess_image", "center_crop", "ten_crop", "random_crop", "random_crop_offsets",
    "horizontal_flip", "pca_color", "pca_color_delta", "compute_mean_image", "compute_pca",
    "resize_shorter_and_center_crop", "to_rgb", "crop_batch", "PCA_ALPHA_STD",
    "SYNTHETIC_CLASSES",
]
