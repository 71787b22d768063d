# %% [markdown]
# # Lesson 10 - Data augmentation: random crops, reflections, PCA colour, ten-crop testing
#
# Paper, sec. 4.1: random 224x224 patches (227 here) of 256x256 images and their mirrors
# multiply the training set by 2048; PCA colour shifts change the intensity and colour of the
# lighting; at test time the network averages its predictions over ten views.
#
# **You will be able to:** count the views the paper counts, take the ten test crops, and
# say what the PCA colour shift adds to an image (one RGB vector for every pixel).

# %%
import _common as C
import matplotlib.pyplot as plt
import numpy as np

from alexnet_np.data import horizontal_flip, load_dataset, pca_color, ten_crop

QUICK = C.QUICK
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. Crops and reflections: the factor 2048
#
# A 224 crop of a 256 image can start at 32 positions per axis (the paper's count;
# `256 - 224 + 1 = 33` strictly), times 2 for the mirror. Ten-crop testing takes the four
# corners and the centre, and their mirrors.

# %%
views = (256 - 224) ** 2 * 2
print(f"(256 - 224)^2 * 2 = {views}; counted exactly with 227 crops: {(256 - 227 + 1) ** 2 * 2}")
C.check(views == 2048, "32 * 32 positions * 2 mirrors = 2048")
size = 36
ds = load_dataset("synthetic", size, synthetic_train=40, synthetic_val=10,
                  cache_dir=C.cache_dir(C.OUT), verbose=False)
img = ds.train_images[3].transpose(2, 0, 1).astype(np.float32)  # (3, S, S)
crops = ten_crop(img, 32)  # (10, 3, 32, 32)
C.check(crops.shape == (10, 3, 32, 32), "ten_crop gives 4 corners + centre, mirrored")
C.check(np.array_equal(crops[5], horizontal_flip(crops[0])), "view 5 mirrors view 0")
C.check(np.array_equal(crops[0], img[:, :32, :32]), "view 0 is the top-left corner")
fig, axes = plt.subplots(2, 5, figsize=(9, 4))
views5 = ["top-left", "top-right", "bottom-left", "bottom-right", "centre"]
for ax, v, name in zip(axes.ravel(), crops, views5 + [f"{n}, mirrored" for n in views5],
                       strict=True):
    ax.imshow(np.clip(v.transpose(1, 2, 0), 0, 255).astype(np.uint8))
    ax.set_title(name, fontsize=8)
    ax.axis("off")
fig.suptitle("ten-crop: five views (top) and their mirrors (bottom)")
C.show(fig, "10_ten_crop.png")

# %% [markdown]
# ## 2. PCA colour
#
# The paper adds `[p1, p2, p3] @ [a1 l1, a2 l2, a3 l3]` to every RGB pixel, where `p`, `l` are
# the eigenvectors and eigenvalues of the training set's 3x3 RGB covariance and `a ~ N(0, 0.1)`
# is drawn once per image: one colour vector for the whole image.

# %%
print(f"eigenvalues of the RGB covariance: {np.round(ds.pca_eigvals, 4)}")
n_draws = 50 if QUICK else 500
shifted = [pca_color(img, ds.pca_eigvals, ds.pca_eigvecs, rng) for _ in range(n_draws)]
deltas = np.array([(s - img)[:, 0, 0] for s in shifted])  # (n_draws, 3) per-image shifts
print(f"std of the shift per channel (0..255 units): {deltas.std(0).round(3)}")
C.check(np.allclose(shifted[0] - img, (shifted[0] - img)[:, :1, :1], atol=1e-3),
        "one shift per image: every pixel moves by the same RGB vector")
C.check(deltas.std(0).max() < 30, "the shifts are small, as the paper intends")
fig, axes = plt.subplots(1, 5, figsize=(9, 2.2))
exaggerated = [pca_color(img, ds.pca_eigvals * 30, ds.pca_eigvecs, rng) for _ in range(5)]
for ax, v in zip(axes, exaggerated, strict=True):
    ax.imshow(np.clip(v.transpose(1, 2, 0), 0, 255).astype(np.uint8))
    ax.axis("off")
fig.suptitle("PCA colour, exaggerated 30x to be visible")
C.show(fig, "10_pca_color.png")

# %% [markdown]
# ## Exercises
#
# - Why does `alexnet-np` switch random flips off for digits (see docs/data.md)?
# - How many distinct training views does one 256x256 image give with 227 crops and flips?
