# %% [markdown]
# # Lesson 01 - NCHW tensors: what a batch of images looks like to the network
#
# Paper, sec. 2-3: AlexNet sees 227x227 RGB crops (the text says 224; lesson 11 explains),
# mean-subtracted, in batches of 128. Every layer here takes and returns NCHW arrays:
# `(N images, C channels, H rows, W columns)`.
#
# **Prerequisites:** NumPy arrays and indexing. **You will be able to:** find an element's
# place in memory from its index, turn a decoded image (HWC) into the network's layout (CHW),
# and estimate what a batch costs in memory.

# %%
import _common as C
import matplotlib.pyplot as plt
import numpy as np

from alexnet_np.data import load_dataset

QUICK = C.QUICK

# %% [markdown]
# ## 1. Memory layout and strides
#
# A C-ordered array stores the last axis contiguously. For a float32 array of shape
# `(N, C, H, W)`, one step along `W` is 4 bytes, along `H` one row (`W * 4`), along `C` one
# plane (`H * W * 4`), along `N` one image. So `x[n, c, h, w]` lives at the flat position
# `((n*C + c)*H + h)*W + w`.

# %%
x = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)  # (N, C, H, W)
print(f"x.shape = {x.shape}, x.strides = {x.strides} bytes")
n, c, h, w = 1, 2, 3, 4
flat = ((n * 3 + c) * 4 + h) * 5 + w
print(f"x[{n},{c},{h},{w}] = {x[n, c, h, w]:.0f}, flat index {flat}")
C.check(x.reshape(-1)[flat] == x[n, c, h, w], "the flat-index formula finds x[n, c, h, w]")
C.check(x.strides == (240, 80, 20, 4), "C-order strides are (C*H*W, H*W, W, 1) * 4 bytes")

# %% [markdown]
# ## 2. From an image file's HWC to the network's CHW
#
# Pillow decodes an image as `(H, W, 3)` bytes. `transpose(2, 0, 1)` gives `(3, H, W)` without
# copying anything: only the strides change. The paper's only preprocessing is subtracting the
# mean image, which broadcasting does for a whole batch at once.

# %%
ds = load_dataset("synthetic", 18 if QUICK else 36, synthetic_train=20, synthetic_val=10,
                  cache_dir=C.cache_dir(C.OUT), verbose=False)
img = np.asarray(ds.train_images[0])  # (S, S, 3) uint8, as Pillow decodes it
chw = img.transpose(2, 0, 1)  # (3, S, S)
print(f"stored image: {img.shape} {img.dtype}; transposed: {chw.shape}; "
      f"shares memory: {np.shares_memory(img, chw)}")
batch = ds.train_images[:8].transpose(0, 3, 1, 2).astype(np.float32)  # (8, 3, S, S)
centred = batch - ds.mean_image  # (8, 3, S, S) - (3, S, S): broadcast over the batch
C.check(chw[1, 5, 7] == img[5, 7, 1], "CHW[c, y, x] == HWC[y, x, c]")
C.check(centred.shape == (8, 3, ds.image_size, ds.image_size), "batch is (N, 3, S, S)")
fig, axes = plt.subplots(1, 4, figsize=(8, 2.2))
axes[0].imshow(img)
axes[0].set_title("RGB (HWC)")
for k, name in enumerate("RGB"):
    axes[k + 1].imshow(chw[k], cmap="gray")
    axes[k + 1].set_title(f"channel {k} ({name})")
for a in axes:
    a.axis("off")
C.show(fig, "01_channels.png")

# %% [markdown]
# ## 3. What the paper's input costs
#
# The weights are 61 million floats (233 MiB), but the activations grow with the batch: conv1's
# output alone is almost twice the size of the input batch, and backpropagation keeps every layer's
# output until the backward pass has used it.

# %%
n, c, h, w = 128, 3, 227, 227
mb = n * c * h * w * 4 / 2**20
conv1 = 128 * 96 * 55 * 55 * 4 / 2**20
print(f"one paper batch ({n}, {c}, {h}, {w}) float32 = {mb:.1f} MiB; conv1's output "
      f"(128, 96, 55, 55) = {conv1:.0f} MiB; all weights {60_965_224 * 4 / 2**20:.0f} MiB")
C.check(abs(mb - 75.5) < 0.1, "a 128-image batch of 227x227x3 float32 is about 75.5 MiB")
C.check(1.8 < conv1 / mb < 2, f"conv1's output is {conv1 / mb:.2f} times the input batch")

# %% [markdown]
# ## Exercises
#
# - What are the strides of `x.transpose(0, 2, 3, 1)` (NHWC)? Predict, then check.
# - Question `q01_flat` in `lessons/exercises/answers.py`.
