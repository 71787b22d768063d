# %% [markdown]
# # Lesson 14 - What the network learned: conv1 filters and neighbours in fc7 space
#
# Paper, sec. 6.1: Fig. 3 shows the 96 conv1 kernels; Fig. 4 takes a test image and retrieves
# the training images whose last hidden layer (fc7, 4096 numbers) is nearest in Euclidean
# distance: they share the test image's class even when their pixels do not look alike.
#
# Here we train a small network of the same shape (the `micro` preset at wider widths) on the
# embedded synthetic shapes for a few hundred steps, then ask the same two questions: what do
# the first-layer filters look like, and do fc7's nearest neighbours share the query's label?
# Run: `python lessons/14_what_it_learned.py [--quick]` (or open it as a notebook).

# %%
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)) if "__file__" in globals()
                else os.path.abspath("lessons"))
import math

import _common as C
import matplotlib.pyplot as plt
import numpy as np

from alexnet_np.data import BatchLoader, load_dataset
from alexnet_np.model import build_model
from alexnet_np.optim import SGD, Warmup, make_schedule
from alexnet_np.train import calibrate_from_data

QUICK = C.QUICK

# %% [markdown]
# ## 1. Train
#
# The `micro` preset keeps AlexNet's sequence of layers (five convolutions, LRN, overlapping
# pooling, two hidden fully connected layers) at a 15x15 input, without dropout, which a toy
# this small does not need (dropout "roughly doubles the number of iterations required to
# converge", sec. 4.2); we widen it so that it learns the ten shapes in seconds. The rest is
# the recipe `alexnet-np train` uses for `cifar` (docs/training.md): Kaiming init with a small
# fc8, calibrated on a batch of training images (each unit's weights zero-mean and scaled to a
# unit-std output), the paper's SGD (momentum 0.9, weight decay 5e-4), a 10-step linear
# warm-up.

# %%
steps = 300 if QUICK else 900
n_train, n_val = (600, 200) if QUICK else (2000, 400)
ds = load_dataset("synthetic", 18, synthetic_train=n_train, synthetic_val=n_val,
                  cache_dir=C.cache_dir(C.OUT), verbose=False)
model = build_model("micro", num_classes=10, seed=0, channels=(16, 32, 32, 32, 32),
                    hidden=(64, 64), dropout=0.0)
untrained = build_model("micro", num_classes=10, seed=0, channels=(16, 32, 32, 32, 32),
                        hidden=(64, 64), dropout=0.0)  # the same initial weights, kept
calibrate_from_data(model, ds)  # what `train` does before the first step
calibrate_from_data(untrained, ds)
opt = SGD(model.params, lr=0.02)
schedule = make_schedule("cosine", 0.02, 1, warmup_steps=10)
assert isinstance(schedule, Warmup)
rng = np.random.default_rng(0)
losses = []
while len(losses) < steps:
    for x, y in BatchLoader(ds, "train", 32, 15, rng=rng, flip=False, pca_color=False,
                            scale=model.cfg.input_scale, prefetch=False):
        opt.lr = schedule.lr_at(len(losses))
        model.train()
        loss, _ = model.loss_and_backward(x, y)
        opt.step(model.grads)
        losses.append(float(loss))
        if len(losses) == steps:
            break
losses = np.array(losses)
print(f"loss: first 10 steps {losses[:10].mean():.3f} (ln 10 = {math.log(10):.3f}), "
      f"last 20 steps {losses[-20:].mean():.3f}")
C.check(losses[-20:].mean() < math.log(10) - 0.5,
        "the training loss ends well below chance level (ln 10 - 0.5)")
fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(losses, lw=0.7)
ax.axhline(math.log(10), color="gray", ls=":", label="ln 10 (chance)")
ax.set(xlabel="step", ylabel="training loss")
ax.legend()
C.show(fig, "14_loss.png")

# %% [markdown]
# ## 2. The conv1 filters (Fig. 3)
#
# Each conv1 kernel is a 3x3x3 colour patch. The paper's groups only start at conv2, so conv1
# is one set of kernels; its colour-agnostic and colour-specific halves (Fig. 3) appear because
# conv2 reads the two halves separately. With 3x3 kernels on 15-pixel shapes there is little
# to see beyond colour and edge polarity; the paper's 11x11 kernels show oriented edges and
# colour blobs (try `alexnet-np visualize filters` on a trained `tiny` or `paper` run).

# %%
W = model["conv1"].params["W"]  # (F, 3, K, K)
fig, axes = plt.subplots(2, W.shape[0] // 2, figsize=(0.8 * W.shape[0] // 2, 1.8))
for f, ax in enumerate(axes.ravel()):
    w = W[f].transpose(1, 2, 0)  # (K, K, 3)
    ax.imshow((w - w.min()) / (np.ptp(w) + 1e-12))
    ax.axis("off")
C.show(fig, "14_conv1_filters.png")

# %% [markdown]
# ## 3. Nearest neighbours in fc7 space (Fig. 4)
#
# fc7's output after its ReLU (`upto="relu7"`, 64 numbers here, 4096 in the paper) for every
# training image and for some validation images; for each validation query, the five training
# images at the smallest Euclidean distance. If fc7 has learned the classes, those neighbours
# share the query's label far more often than the 10% that chance would give, and more often
# than the same network's fc7 did before training (random convolutions already group images
# a little by shape: docs/data.md).

# %%
def features(net, split):
    """relu7 features and labels of a whole split (eval mode: centre crop, no dropout)."""
    feats, labels = [], []
    for x, y in BatchLoader(ds, split, 128, 15, train=False, scale=net.cfg.input_scale,
                            prefetch=False):
        feats.append(net.eval().forward(x, upto="relu7"))  # (B, 64)
        labels.append(y)
    return np.concatenate(feats), np.concatenate(labels)


def neighbour_share(net, k=5):
    """For every val image, its k nearest training images in fc7 space; returns the share of
    them with the query's label, and the (M, k) neighbour indices."""
    train_f, train_y = features(net, "train")  # (N, 64)
    val_f, val_y = features(net, "val")  # (M, 64)
    d = ((val_f[:, None, :] - train_f[None, :, :]) ** 2).sum(-1)  # (M, N) squared distances
    nn = np.argsort(d, axis=1)[:, :k]  # (M, k)
    return float(np.mean(train_y[nn] == val_y[:, None])), nn, train_y


share, nn, train_y = neighbour_share(model)
share0, _, _ = neighbour_share(untrained)
print(f"{share:.0%} of the 5 nearest training images share the query's label after training; "
      f"{share0:.0%} with the same network untrained; chance: 10%")
C.check(share >= 0.2 and share >= share0 + 0.05,
        "after training, fc7 neighbours share the query's label well above chance (at least "
        "2x) and clearly more often than before training")

fig, axes = plt.subplots(4, 6, figsize=(6, 4.4))
for row in range(4):
    q = row * (len(nn) // 4)
    axes[row, 0].imshow(ds.val_images[q])
    axes[row, 0].set_title("query", fontsize=7)
    for col in range(5):
        j = nn[q, col]
        axes[row, col + 1].imshow(ds.train_images[j])
        axes[row, col + 1].set_title(ds.classes[train_y[j]], fontsize=6)
    for ax in axes[row]:
        ax.axis("off")
C.show(fig, "14_neighbours.png")

# %% [markdown]
# ## What to take away
#
# - A network that has learned shows it twice: the loss falls well below ln(classes), and its
#   last hidden layer groups images by class (Fig. 4), whatever their colours and positions.
# - Before a network learns, neither holds: run this lesson with `steps = 5` and the
#   neighbours fall towards chance.
