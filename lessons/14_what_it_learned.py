"""Lesson 14 - What the network learned: conv1 filters by group, nearest neighbours in fc7.

Paper, sec. 6.1: Fig. 3 shows the 96 conv1 kernels (one group colour-agnostic, the other
colour-specific); Fig. 4 retrieves training images whose fc7 vectors are nearest.
Run: python lessons/14_what_it_learned.py [--quick]
"""

# %%
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)) if "__file__" in globals()
                else os.path.abspath("lessons"))
import _common as C
import matplotlib.pyplot as plt
import numpy as np

from alexnet_np.data import BatchLoader


def main(argv=None):
    args = C.parse(argv, __doc__)
    steps = 30 if args.quick else 400
    C.section(f"1. Train the micro preset for {steps} steps")
    model, losses, ds = C.train_micro(args.out, steps, lr=0.01, batch=16)
    print(f"loss {losses[:5].mean():.3f} -> {losses[-5:].mean():.3f}")
    C.check(np.isfinite(losses).all(), "training stayed finite")
    C.section("2. conv1 filters")
    W = model["conv1"].params["W"]  # (F, 3, K, K)
    print(f"conv1 W {W.shape}; the paper's groups only start at conv2, so conv1's filters "
          "are one set (the colour split of Fig. 3 appears because conv2 reads them in halves)")
    fig, axes = plt.subplots(1, W.shape[0], figsize=(1.2 * W.shape[0], 1.4))
    for f, ax in enumerate(axes):
        w = W[f].transpose(1, 2, 0)
        ax.imshow((w - w.min()) / (np.ptp(w) + 1e-12))
        ax.set_title("half 1" if f < W.shape[0] // 2 else "half 2", fontsize=7)
        ax.axis("off")
    C.savefig(fig, args.out, "14_conv1_filters.png")
    C.section("3. Nearest neighbours in fc7 space")
    x, y = next(iter(BatchLoader(ds, "train", 64, 15, train=False, scale=1 / 64,
                                 prefetch=False)))
    feats = model.eval().forward(x, upto="relu7")  # (64, hidden)
    d = ((feats[:, None] - feats[None]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    nn = d.argmin(1)
    agree = np.mean(y[nn] == y)
    print(f"fc7 features {feats.shape}; nearest neighbour has the same label for "
          f"{agree:.0%} of images (chance 10%)")
    C.check(feats.shape[0] == 64 and np.isfinite(feats).all(), "fc7 features computed")
    fig, axes = plt.subplots(4, 2, figsize=(3, 6))
    for row in range(4):
        for col, idx in enumerate((row, nn[row])):
            axes[row, col].imshow(ds.train_images[idx])
            axes[row, col].axis("off")
    C.savefig(fig, args.out, "14_neighbours.png")
    print("\nLesson 14 done: every self-check passed.")
    return 0


# %%
if __name__ == "__main__":
    raise SystemExit(main())
