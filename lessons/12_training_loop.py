# %% [markdown]
# # Lesson 12 - The training loop and its sanity checks
#
# Paper, sec. 5: SGD, batch 128, momentum 0.9, weight decay 5e-4, learning rate 0.01. Before
# any long run, two checks catch most bugs: (1) the initial loss is `ln(K)` for `K` classes
# (lesson 06); (2) the network can memorise a handful of images. A network that cannot overfit
# ten images has a bug, not a tuning problem.
#
# **Prerequisites:** lessons 06, 09, 11. **You will be able to:** write the loop (forward,
# loss, backward, step) and run both checks.

# %%
import _common as C
import matplotlib.pyplot as plt
import numpy as np

from alexnet_np.data import BatchLoader, load_dataset
from alexnet_np.model import build_model
from alexnet_np.optim import SGD

QUICK = C.QUICK

# %% [markdown]
# ## 1. The loss at initialisation
#
# Small random weights give nearly equal logits, so every class gets probability about
# `1/K` and the loss is about `ln K`.

# %%
ds = load_dataset("synthetic", 18, synthetic_train=320, synthetic_val=80,
                  cache_dir=C.cache_dir(C.OUT), verbose=False)
model = build_model("micro", num_classes=10, seed=0, dropout=0.0, fast=False)
x, y = next(iter(BatchLoader(ds, "train", 10, 15, train=False, scale=1 / 64, prefetch=False)))
loss0, _ = model.loss(x, y)
print(f"initial loss {loss0:.3f}, ln(10) = {np.log(10):.3f}")
C.check(abs(loss0 - np.log(10)) < 0.5, "the untrained network is near chance")

# %% [markdown]
# ## 2. Overfit ten images
#
# The whole loop is four lines: forward and loss, backward (the model calls every layer's
# backward in reverse order, lesson 00's recipe), one SGD step on every parameter.

# %%
opt = SGD(model.params, lr=0.01, weight_decay=0.0)  # 0.05 diverges here
steps = 60 if QUICK else 150
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
ax.plot(losses, label="training loss, 10 images")
ax.axhline(np.log(10), color="gray", ls=":", label="ln 10 (chance)")
ax.set_xlabel("step")
ax.set_ylabel("loss")
ax.legend()
C.show(fig, "12_overfit.png")

# %% [markdown]
# Next: `alexnet-np train --arch cifar` runs the full loop with validation, the plateau
# schedule and checkpoints; `examples/hand_written_loop.py` is this loop on a real data set.
#
# ## Exercises
#
# - Set `lr=0.05` and watch it diverge; at which step does the loss become nan?
# - Set one layer's gradient to zero before the step. Does the overfit check still pass?
