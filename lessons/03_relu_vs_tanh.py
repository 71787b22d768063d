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

from alexnet_np.data import load_dataset
from alexnet_np.tools import fig1

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
# Fig. 1's caption: "A four-layer convolutional neural network with ReLUs (solid line) reaches
# a 25% training error rate on CIFAR-10 six times faster than an equivalent network with tanh
# neurons (dashed line). The learning rates for each network were chosen independently to make
# training as fast as possible. No regularization of any kind was employed."
#
# Four learned layers, as in Fig. 1: conv 5x5 (16) - pool - conv 3x3 (32) - pool - fc 64 -
# fc 10, the non-linearity after each of the first three (`alexnet_np/tools/fig1.py`, the code
# `alexnet-np ablate` runs too). Same initial weights (Kaiming normal, with a small last
# layer), same data order, the paper's SGD (momentum 0.9), no weight decay, no dropout, no
# augmentation. Data: the embedded synthetic shapes at 16x16, the same images every epoch.
# After each epoch we measure the error on the whole training set, the paper's measure, and
# count the epochs until it first reaches 25%.
#
# The input scale matters, and that is the point of the figure. The paper fed centred raw
# pixels (std ~60) into weights drawn from N(0, 0.01^2), so its first layer's pre-activations
# had a standard deviation of about sqrt(75) x 60 x 0.01 ~ 5. Here the pixels are scaled by
# 1/16 (std ~4) and the weights are Kaiming's, which gives the same: most tanh units start
# deep in saturation, where they pass almost no gradient. ReLU does not care how large its
# input is. (At the presets' scale of 1/64, inputs of std 1, the two nets were equally fast in
# our runs: docs/ablations.md.)
#
# Two comparisons: first both nets at the same learning rate, 0.01 (the paper's initial rate
# for AlexNet); then each net at its own fastest rate from a small grid, the caption's protocol.

# %%
S = 16
n_train = 256 if QUICK else 512
max_epochs = 30
lrs = (0.01, 0.1) if QUICK else (0.003, 0.01, 0.03, 0.1)
shared_lr = 0.01
x_all, y_all = fig1.load_inputs("synthetic", S, n_train, seed=0, scale=1 / 16,
                                cache_dir=C.cache_dir(C.OUT))  # (N, 3, 16, 16), centred, x 1/16
print(f"input std {x_all.std():.1f}")
print(fig1.four_layer_net("relu", S))  # the network (the tanh one differs only in act)
result = fig1.measure(x_all, y_all, lrs=lrs, seeds=(0,), epochs=max_epochs)[0]

# %% [markdown]
# Each line above is one training run: an activation, a learning rate, the epochs it needed to
# reach 25% training error. The figure: dashed, both nets at the shared rate; solid, each at
# its fastest rate of the grid.

# %%
C.show(fig1.figure({0: result}, shared_lr), "03_relu_vs_tanh.png")

same = fig1.same_lr(result, shared_lr)
C.check(same["relu"] is not None, f"the ReLU net reaches 25% training error at lr {shared_lr}")
same_ratio = fig1.ratio({a: {"epochs": e} for a, e in same.items()}, max_epochs)
print(f"same rate {shared_lr}: ReLU {same['relu']} epochs, tanh "
      f"{same['tanh'] or f'not within {max_epochs}'}: tanh needed "
      f"{'at least ' if same['tanh'] is None else ''}{same_ratio:.1f}x the epochs of ReLU")
C.check(same_ratio >= 2, "at the same rate ReLU reaches 25% training error at least 2x faster")
best_ratio = fig1.ratio(result, max_epochs)
print(f"each at its fastest rate: ReLU {result['relu']['epochs']} epochs (lr "
      f"{result['relu']['lr']:g}), tanh {result['tanh']['epochs']} (lr {result['tanh']['lr']:g})"
      f": ratio {best_ratio:.1f}x (paper, Fig. 1: about 6x)")
C.check(result["tanh"]["lr"] > result["relu"]["lr"],
        "tanh's fastest rate is larger than ReLU's: bigger steps make up for its small gradients")

# %% [markdown]
# At the same rate ReLU wins clearly: the saturated tanh units pass little gradient, and every
# step is small. Give tanh its own, larger rate and much of the gap closes: on these small
# data sets the fastest tanh net was about as fast as the fastest ReLU net (docs/ablations.md
# has the two-seed figures). So at this scale the part of Fig. 1 that reproduces is the
# mechanism, not the factor of six: the paper's runs were on the 50,000 CIFAR-10 images, where
# 25% training error needs far more learning than on a few hundred synthetic ones.

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
# - That is the paper's argument for ReLU (Fig. 1), and in part 2 it holds at the same learning
#   rate: the ReLU net reaches 25% training error several times sooner. With each net at its
#   own fastest rate (the caption's protocol) tanh catches up on our small data.
# - The price is dead units: a ReLU that is off for every input learns nothing. Small final
#   weights and a warm-up keep the first steps from killing them; the health plot shows
#   whether they did.
