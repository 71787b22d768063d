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
# normal), same data order, same learning rate (0.05) and the paper's SGD (momentum 0.9), no
# weight decay, no dropout, no augmentation (Fig. 1's nets had no regularisation either).
# Data: the embedded synthetic shapes at 16x16, the same images every epoch. After each
# epoch we measure the error on the whole training set, the paper's measure, and count the
# epochs until it first reaches 25%.

# %%
S = 16
n_train = 256 if QUICK else 512
max_epochs = 30 if QUICK else 40
ds = load_dataset("synthetic", S, synthetic_train=n_train, synthetic_val=10,
                  cache_dir=C.cache_dir(C.OUT), verbose=False)
x_all, y_all = next(iter(BatchLoader(ds, "train", n_train, S, train=False, scale=1 / 64,
                                     prefetch=False)))  # (N, 3, 16, 16), centred, x 1/64


def four_layer_net(act, seed=0):
    """conv-act-pool, conv-act-pool, fc-act, fc: the same weights for either activation."""
    r = np.random.default_rng(seed)
    f = 32 * (S // 4) ** 2  # (32, 4, 4) flattened
    return [Conv2d(3, 16, 5, 1, 2, rng=r, std=math.sqrt(2 / 75)), act(), MaxPool2d(2, 2),
            Conv2d(16, 32, 3, 1, 1, rng=r, std=math.sqrt(2 / 144)), act(), MaxPool2d(2, 2),
            Flatten(), Linear(f, 64, rng=r, std=math.sqrt(2 / f)), act(),
            Linear(64, 10, rng=r, std=math.sqrt(2 / 64))]


def forward(layers, x):
    for layer in layers:
        x = layer.forward(x)
    return x


def train_error_curve(act, epochs, lr=0.05, batch=64):
    """Training error on all n_train images after each epoch of SGD."""
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
    return np.array(errors)


def epochs_to(errors, target=0.25):
    hit = np.flatnonzero(errors <= target)
    return int(hit[0]) + 1 if hit.size else None


curves = {name: train_error_curve(act, max_epochs) for name, act in
          [("relu", ReLU), ("tanh", Tanh)]}
reached = {name: epochs_to(err) for name, err in curves.items()}
for name, err in curves.items():
    when = reached[name] or f"not within {max_epochs}"
    print(f"{name}: training error after epoch 1 {err[0]:.0%}, last {err[-1]:.0%}; "
          f"epochs to 25%: {when}")
fig, ax = plt.subplots(figsize=(5, 3))
for name, err in curves.items():
    ax.plot(np.arange(1, max_epochs + 1), 100 * err, label=name)
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
