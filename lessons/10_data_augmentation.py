"""Lesson 10 - Data augmentation: random crops, reflections, PCA colour, ten-crop testing.

Paper, sec. 4.1: random 224x224 patches (227 here) of 256x256 images and their mirrors
multiply the training set by 2048; PCA colour shifts; ten views at test time.
Run: python lessons/10_data_augmentation.py [--quick]
"""

# %%
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)) if "__file__" in globals()
                else os.path.abspath("lessons"))
import _common as C
import matplotlib.pyplot as plt
import numpy as np

from alexnet_np.data import horizontal_flip, load_dataset, pca_color, ten_crop


def main(argv=None):
    args = C.parse(argv, __doc__)
    rng = np.random.default_rng(0)
    C.section("1. Crops and reflections: the factor 2048")
    views = (256 - 224) ** 2 * 2
    print(f"(256 - 224)^2 * 2 = {views} (the paper's 'factor of 2048'); with 227: "
          f"{(256 - 227 + 1) ** 2 * 2}")
    C.check(views == 2048, "32 * 32 positions * 2 mirrors = 2048")
    size = 36
    ds = load_dataset("synthetic", size, synthetic_train=40, synthetic_val=10,
                      cache_dir=C.cache_dir(args.out), verbose=False)
    img = ds.train_images[3].transpose(2, 0, 1).astype(np.float32)  # (3, S, S)
    crops = ten_crop(img, 32)
    C.check(crops.shape == (10, 3, 32, 32), "ten_crop gives 4 corners + centre, mirrored")
    C.check(np.array_equal(crops[5], horizontal_flip(crops[0])), "view 5 mirrors view 0")
    C.section("2. PCA colour")
    print(f"eigenvalues of the RGB covariance: {np.round(ds.pca_eigvals, 4)}")
    shifted = [pca_color(img, ds.pca_eigvals, ds.pca_eigvecs, rng) for _ in range(200)]
    deltas = np.array([(s - img)[:, 0, 0] for s in shifted])  # (200, 3) per-image shifts
    print(f"std of the shift per channel (0..255 units): {deltas.std(0).round(3)}")
    C.check(np.allclose(shifted[0] - img, (shifted[0] - img)[:, :1, :1], atol=1e-3),
            "one shift per image: every pixel moves by the same RGB vector")
    C.check(deltas.std(0).max() < 30, "the shifts are small, as the paper intends")
    fig, axes = plt.subplots(2, 5, figsize=(9, 4))
    for ax, v in zip(axes.ravel(), crops, strict=True):
        ax.imshow(np.clip(v.transpose(1, 2, 0), 0, 255).astype(np.uint8))
        ax.axis("off")
    C.savefig(fig, args.out, "10_ten_crop.png")
    fig, axes = plt.subplots(1, 5, figsize=(9, 2))
    exaggerated = [pca_color(img, ds.pca_eigvals * 30, ds.pca_eigvecs, rng) for _ in range(5)]
    for ax, v in zip(axes, exaggerated, strict=True):
        ax.imshow(np.clip(v.transpose(1, 2, 0), 0, 255).astype(np.uint8))
        ax.axis("off")
    fig.suptitle("PCA colour, exaggerated 30x to be visible")
    C.savefig(fig, args.out, "10_pca_color.png")
    print("\nLesson 10 done: every self-check passed.")
    return 0


# %%
if __name__ == "__main__":
    raise SystemExit(main())
