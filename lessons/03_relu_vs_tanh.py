# %% [markdown]
# # Lesson 03 - ReLU vs tanh: saturation, the paper's Fig. 1, and dead units
#
# Paper, sec. 3.1: "Deep convolutional neural networks with ReLUs train several times faster
# than their equivalents with tanh units." Fig. 1: a four-layer CNN with ReLUs reached 25%
# training error on CIFAR-10 six times faster than the same network with tanh.
#
# Three parts: (1) the mechanism, tanh's derivative vanishes for large inputs; (2) the paper's
# measure on a four-layer CNN and the embedded synthetic images: epochs to 25% training error;
# (3) the ReLU's own failure mode, units that never fire again, seen with the training health
# plot (`alexnet-np visualize health`). Run: `python lessons/03_relu_vs_tanh.py [--quick]`.

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
from alexnet_np.layers import Conv2d, Flatten, Linear, MaxPool2d, ReLU, SoftmaxCrossEntropy, Tanh
from alexnet_np.optim import SGD

QUICK = C.QUICK

# %% [markdown]
# ## 1. Derivatives: tanh saturates, ReLU does not
#
# tanh'(z) = 1 - tanh(z)^2 falls below 1% at |z| = 3: a unit pushed that far passes almost no
# gradient back. relu'(z) = 1 for every z > 0, however large.

# %%
z = np.linspace(-5, 5, 201)
print(f"tanh'(3) = {1 - np.tanh(3) ** 2:.4f}, relu'(3) = 1")
C.check(1 - np.tanh(3) ** 2 < 0.01, "tanh passes < 1% of the gradient at z = 3")
fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(z, np.tanh(z), label="tanh")
ax.plot(z, np.maximum(z, 0), label="relu")
ax.plot(z, 1 - np.tanh(z) ** 2, "--", label="tanh'")
ax.plot(z, (z > 0).astype(float), "--", label="relu'")
ax.set_ylim(-1.5, 3)
ax.legend(fontsize=7)
C.show(fig, "03_activations.png")

# %% [markdown]
# ## 2. Fig. 1 at small scale: a four-layer CNN, trained with ReLU and with tanh
#
# Four learned layers, as in Fig. 1: conv 5x5 (16) - pool - conv 3x3 (32) - pool - fc 64 -
# fc 10, the non-linearity after each of the first three. Same initial weights (Kaiming
# normal, with a small last layer), same data order, same learning rate (0.01) and the
# paper's SGD (momentum 0.9), no weight decay, no dropout, no augmentation (Fig. 1's nets had
# no regularisation either). Data: the embedded synthetic shapes at 16x16, the same images
# every epoch. After each epoch we measure the error on the whole training set, the paper's
# measure, and count the epochs until it first reaches 25%.
#
# The input scale matters, and that is the point of the figure. The paper fed centred raw
# pixels (0..255 minus the mean); here the pixels are scaled by 1/16, so the inputs have a
# standard deviation of about 4 and the first layer's pre-activations of about 6: most tanh
# units start deep in saturation, where they pass almost no gradient. ReLU does not care how
# large its input is. (At the presets' scale of 1/64, inputs of std 1, the two nets were
# equally fast in our runs: 9 epochs each; docs/training.md.)

# %%
S = 16
n_train = 256 if QUICK else 512
max_epochs = 30 if QUICK else 40
ds = load_dataset("synthetic", S, synthetic_train=n_train, synthetic_val=10,
                  cache_dir=C.cache_dir(C.OUT), verbose=False)
x_all, y_all = next(iter(BatchLoader(ds, "train", n_train, S, train=False, scale=1 / 16,
                                     prefetch=False)))  # (N, 3, 16, 16), centred, x 1/16
print(f"input std {x_all.std():.1f}")


def four_layer_net(act, seed=0):
    """conv-act-pool, conv-act-pool, fc-act, fc: the same weights for either activation."""
    r = np.random.default_rng(seed)
    f = 32 * (S // 4) ** 2  # (32, 4, 4) flattened
    return [Conv2d(3, 16, 5, 1, 2, rng=r, std=math.sqrt(2 / 75)), act(), MaxPool2d(2, 2),
            Conv2d(16, 32, 3, 1, 1, rng=r, std=math.sqrt(2 / 144)), act(), MaxPool2d(2, 2),
            Flatten(), Linear(f, 64, rng=r, std=math.sqrt(2 / f)), act(),
            Linear(64, 10, rng=r, std=0.01)]  # small: the first logits are near 0


def forward(layers, x):
    for layer in layers:
        x = layer.forward(x)
    return x


def train_error_curve(act, epochs, lr=0.01, batch=64, target=0.25):
    """Training error on all n_train images after each epoch of SGD, until it reaches
    ``target`` (or for ``epochs`` epochs)."""
    layers = four_layer_net(act)
    params = {f"{i}.{k}": v for i, lay in enumerate(layers) for k, v in lay.params.items()}
    opt, loss_layer = SGD(params, lr=lr, weight_decay=0.0), SoftmaxCrossEntropy()
    rng = np.random.default_rng(1)  # the same batch order for both nets
    errors = []
    for _ in range(epochs):
        order = rng.permutation(n_train)
        for i in range(0, n_train - batch + 1, batch):
            idx = order[i:i + batch]
            loss_layer.forward(forward(layers, x_all[idx]), y_all[idx])
            d = loss_layer.backward()
            for lay in reversed(layers):
                d = lay.backward(d)
            opt.step({f"{j}.{k}": v for j, lay in enumerate(layers)
                      for k, v in lay.grads.items()})
        errors.append(float(np.mean(forward(layers, x_all).argmax(1) != y_all)))
        if errors[-1] <= target:
            break
    return np.array(errors)


def epochs_to(errors, target=0.25):
    hit = np.flatnonzero(errors <= target)
    return int(hit[0]) + 1 if hit.size else None


curves = {name: train_error_curve(act, max_epochs) for name, act in
          [("relu", ReLU), ("tanh", Tanh)]}
reached = {name: epochs_to(err) for name, err in curves.items()}
for name, err in curves.items():
    when = reached[name] or f"not within {max_epochs}"
    print(f"{name}: training error after epoch 1 {err[0]:.0%}, after epoch {len(err)} "
          f"{err[-1]:.0%}; epochs to 25%: {when}")
fig, ax = plt.subplots(figsize=(5, 3))
for name, err in curves.items():
    ax.plot(np.arange(1, len(err) + 1), 100 * err, "o-", ms=3, label=name)
ax.axhline(25, color="gray", ls=":", label="25% (Fig. 1's line)")
ax.set(xlabel="epoch", ylabel="training error (%)", ylim=(0, 100))
ax.legend()
C.show(fig, "03_relu_vs_tanh.png")
relu_epochs = reached["relu"]
tanh_epochs = reached["tanh"] or max_epochs + 1  # not reached: at least one more epoch
C.check(relu_epochs is not None, "the ReLU net reaches 25% training error")
ratio = tanh_epochs / relu_epochs
print(f"tanh needed {'at least ' if reached['tanh'] is None else ''}{ratio:.1f}x the epochs "
      "of ReLU (paper, Fig. 1: about 6x)")
C.check(ratio >= 2, "ReLU reaches 25% training error at least 2x faster than tanh")

# %% [markdown]
# ## 3. The ReLU's own failure: dead units, and the loss stuck at ln(10)
#
# A ReLU whose input is negative for every image passes no gradient at all: it is dead, and
# nothing below it learns through it. Large first steps can kill many units at once. With
# Kaiming's init in every layer, fc8 included, the first logits are large (the first loss is
# well above ln(10)), the first gradients are large, and at full learning rate the first few
# updates push most units of the upper layers below zero. The loss then sits at ln(10) = 2.303,
# the loss of a uniform guess, until enough units come back.
#
# `alexnet_np.tools.health` (the tool behind `alexnet-np visualize health`) trains a few dozen
# steps and records, per layer and step, the activation statistics, the fraction of dead units,
# the gradient std and the update/weight ratio. Here: a small network of AlexNet's shape, once
# with that plain init and no warm-up ("old") and once with the small presets' recipe: fc8
# drawn from N(0, 0.01^2) so the first logits are near 0, and a linear warm-up of the learning
# rate over the first steps ("new"). docs/training.md shows the same plots for the `cifar`
# preset.

# %%
from alexnet_np.tools.health import health_run, plateau_steps
from alexnet_np.train import TrainSettings

hsteps = 60 if QUICK else 150
hds = load_dataset("synthetic", 18, synthetic_train=600, synthetic_val=20,
                   cache_dir=C.cache_dir(C.OUT), verbose=False)
widths = {"channels": (16, 32, 32, 32, 32), "hidden": (64, 64)}
records = {}
for label, fc8_std, warmup in [("old", 0.0, 0), ("new", 0.01, 20)]:
    hs = TrainSettings(arch="micro", lr=0.02, batch_size=32, warmup_steps=warmup, flip=False,
                       progress=False, fast=False,  # the NumPy reference layers
                       model_overrides={**widths, "fc8_init_std": fc8_std})
    records[label] = health_run(hs, steps=hsteps, dataset=hds, log=lambda m: None)

upper = ("relu3", "relu4", "relu5")
dead = {label: float(np.mean([np.mean(r["layers"][k]["dead"][-20:]) for k in upper]))
        for label, r in records.items()}
for label, r in records.items():
    print(f"{label}: first loss {r['loss'][0]:.2f}, last 20 steps {np.mean(r['loss'][-20:]):.3f}, "
          f"dead units in relu3-5 over the last 20 steps {dead[label]:.0%}, steps before the "
          f"loss leaves ln(10): {plateau_steps(r['loss'])}")
fig, axes = plt.subplots(1, 2, figsize=(10, 3))
for label, r in records.items():
    axes[0].plot(r["steps"], r["loss"], lw=0.8, label=label)
    for k, style in zip(upper, ("-", "--", ":"), strict=True):
        axes[1].plot(r["steps"], r["layers"][k]["dead"], style,
                     color="C0" if label == "old" else "C1", label=f"{label} {k}")
axes[0].axhline(math.log(10), color="gray", ls=":")
axes[0].set(xlabel="step", ylabel="training loss")
axes[1].set(xlabel="step", ylabel="dead fraction")
axes[0].legend()
axes[1].legend(fontsize=6, ncol=2)
C.show(fig, "03_dead_relus.png")
C.check(records["old"]["loss"][0] > math.log(10) + 0.5 > records["new"]["loss"][0],
        "plain Kaiming in fc8 starts far above ln(10); the small fc8 starts at ln(10)")
C.check(dead["old"] > dead["new"] + 0.15,
        "the old recipe leaves many more dead ReLUs in the upper layers")

# %% [markdown]
# ## What to take away
#
# - tanh saturates: beyond |z| = 3 it passes less than 1% of the gradient. ReLU passes all of
#   it for z > 0 and none for z < 0.
# - That is the paper's argument for ReLU (Fig. 1), and in part 2 it holds: with the same
#   init, data and learning rate the ReLU net reaches 25% training error in fewer epochs.
# - The price is dead units: a ReLU that is off for every input learns nothing. Small final
#   weights and a warm-up keep the first steps from killing them; the health plot shows
#   whether they did.
