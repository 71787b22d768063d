"""Lesson 12 - The training loop and its sanity checks: loss at chance, overfit a tiny set.

Paper, sec. 5: SGD, batch 128, momentum 0.9, weight decay 5e-4, lr 0.01. Before any long run:
(1) the initial loss is ln(K); (2) the network can memorise a handful of images.
Run: python lessons/12_training_loop.py [--quick]
"""

# %%
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)) if "__file__" in globals()
                else os.path.abspath("lessons"))
import _common as C
import matplotlib.pyplot as plt
import numpy as np

from alexnet_np.data import BatchLoader, load_dataset
from alexnet_np.model import build_model
from alexnet_np.optim import SGD


def main(argv=None):
    args = C.parse(argv, __doc__)
    ds = load_dataset("synthetic", 18, synthetic_train=320, synthetic_val=80,
                      cache_dir=C.cache_dir(args.out), verbose=False)
    model = build_model("micro", num_classes=10, seed=0, dropout=0.0)
    x, y = next(iter(BatchLoader(ds, "train", 10, 15, train=False, scale=1 / 64,
                                 prefetch=False)))
    C.section("1. The loss at initialisation")
    loss0, _ = model.loss(x, y)
    print(f"initial loss {loss0:.3f}, ln(10) = {np.log(10):.3f}")
    C.check(abs(loss0 - np.log(10)) < 0.5, "the untrained network is near chance")
    C.section("2. Overfit ten images")
    opt = SGD(model.params, lr=0.01, weight_decay=0.0)  # 0.05 diverges here
    steps = 60 if args.quick else 150
    losses = []
    for _ in range(steps):
        model.train()
        loss, _ = model.loss_and_backward(x, y)
        opt.step(model.grads)
        losses.append(float(loss))
    acc = np.mean(model.eval().forward(x).argmax(1) == y)
    print(f"loss {losses[0]:.3f} -> {losses[-1]:.3f} in {steps} steps; accuracy on those ten "
          f"images {acc:.0%}")
    C.check(losses[-1] < 0.5 * losses[0], "the loss on a tiny set falls by half or more")
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.plot(losses)
    ax.axhline(np.log(10), color="gray", ls=":", label="ln 10")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.legend()
    C.savefig(fig, args.out, "12_overfit.png")
    print("Next: alexnet-np train --arch cifar runs the full loop with validation, the "
          "plateau schedule and checkpoints.")
    print("\nLesson 12 done: every self-check passed.")
    return 0


# %%
if __name__ == "__main__":
    raise SystemExit(main())
