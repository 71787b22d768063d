"""Lesson 01 - NCHW tensors: what a batch of images looks like to the network.

Paper, sec. 2-3: AlexNet sees 227x227 RGB crops (the text says 224; lesson 11 explains),
mean-subtracted, in batches of 128. Every layer here takes and returns NCHW arrays:
(N images, C channels, H rows, W columns). Run: python lessons/01_tensors_nchw.py [--quick]
"""

# %%
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)) if "__file__" in globals()
                else os.path.abspath("lessons"))
import _common as C
import matplotlib.pyplot as plt
import numpy as np


# %% [markdown]
# ## 1. Memory layout and strides
def part_layout():
    C.section("1. An NCHW batch: shape, strides, memory")
    x = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)  # (N, C, H, W)
    print(f"x.shape = {x.shape}  (N images, C channels, H rows, W columns)")
    print(f"x.strides = {x.strides} bytes: one step along W is 4 bytes (one float32),")
    print("along H one row (5*4 = 20), along C one plane (4*5*4 = 80), along N one image.")
    print("x[n, c, h, w] lives at flat position ((n*C + c)*H + h)*W + w:")
    n, c, h, w = 1, 2, 3, 4
    flat = ((n * 3 + c) * 4 + h) * 5 + w
    print(f"  x[{n},{c},{h},{w}] = {x[n, c, h, w]:.0f}, flat index {flat}")
    C.check(x.reshape(-1)[flat] == x[n, c, h, w], "the flat-index formula finds x[n, c, h, w]")
    C.check(x.strides == (240, 80, 20, 4), "C-order strides are (C*H*W, H*W, W, 1) * 4 bytes")


# %% [markdown]
# ## 2. From an image file's HWC to the network's CHW
def part_hwc(out, quick):
    C.section("2. Images are stored HWC; the network wants CHW")
    from alexnet_np.data import load_dataset
    ds = load_dataset("synthetic", 18 if quick else 36, synthetic_train=20, synthetic_val=10,
                      cache_dir=C.cache_dir(out), verbose=False)
    img = np.asarray(ds.train_images[0])  # (S, S, 3) uint8, as Pillow decodes it
    chw = img.transpose(2, 0, 1)  # (3, S, S)
    print(f"stored image: {img.shape} {img.dtype}; transposed: {chw.shape}")
    print("transpose() only changes strides, no copy:", np.shares_memory(img, chw))
    batch = ds.train_images[:8].transpose(0, 3, 1, 2).astype(np.float32)  # (8, 3, S, S)
    centred = batch - ds.mean_image  # the paper's only preprocessing: subtract the mean image
    print(f"batch {batch.shape}, mean image {ds.mean_image.shape}; broadcasting subtracts it "
          "from every image")
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
    C.savefig(fig, out, "01_channels.png")


# %% [markdown]
# ## 3. Shapes through a layer, and the memory of the real thing
def part_sizes():
    C.section("3. What the paper's input costs")
    n, c, h, w = 128, 3, 227, 227
    mb = n * c * h * w * 4 / 2**20
    print(f"one paper batch: ({n}, {c}, {h}, {w}) float32 = {mb:.1f} MiB")
    conv1 = 128 * 96 * 55 * 55 * 4 / 2**20
    print(f"conv1's output for that batch, (128, 96, 55, 55): {conv1:.0f} MiB - activations,"
          " not weights, fill a 3 GB GTX 580")
    C.check(abs(mb - 75.5) < 0.1, "a 128-image batch of 227x227x3 float32 is about 75.5 MiB")


def main(argv=None):
    args = C.parse(argv, __doc__)
    part_layout()
    part_hwc(args.out, args.quick)
    part_sizes()
    print("\nLesson 01 done: every self-check passed.")
    return 0


# %%
if __name__ == "__main__":
    raise SystemExit(main())
