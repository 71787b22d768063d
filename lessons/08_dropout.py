# %% [markdown]
# # Lesson 08 - Dropout: the paper's test-time 0.5 vs inverted dropout
#
# Paper, sec. 4.2: the outputs of fc6 and fc7 are zeroed with probability 0.5 during training;
# at test time all units are used and their outputs multiplied by 0.5.
#
# **Prerequisites:** lesson 00 (multiply gate). **You will be able to:** derive dropout's
# backward pass, compute it by hand, and show that the paper's form and the inverted form used
# here are the same network up to a constant factor.

# %%
import _common as C
import matplotlib.pyplot as plt
import numpy as np

from alexnet_np.gradcheck import check_layer
from alexnet_np.layers import Dropout, dropout_backward

QUICK = C.QUICK
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. Deriving the backward pass
#
# In training, with a mask `m[i]` drawn once per forward pass (`m[i] = 1` with probability
# `1 - p`, else 0), inverted dropout computes
#
#     out[i] = x[i] * m[i] / (1 - p)
#
# For this step the mask is a constant, so this is a multiply gate with a fixed factor:
# `dx[i] = dout[i] * m[i] / (1 - p)`. A dropped unit passes no gradient; a kept one passes
# `dout` scaled by `1 / (1 - p)`. The backward pass must use **the same mask** as the forward
# pass, which is why the layer caches it.
#
# **By hand.** `x = [1, 2, 3, 4]`, `p = 0.5`, mask `[1, 0, 1, 1]`: `out = [2, 0, 6, 8]`; with
# `dout = [1, 1, 1, 1]`, `dx = [2, 0, 2, 2]`.

# %%
x = np.array([1.0, 2.0, 3.0, 4.0])
mask = np.array([1.0, 0.0, 1.0, 1.0])
scaled = mask / (1 - 0.5)  # what dropout_forward caches
out = x * scaled
dx = dropout_backward(np.ones(4), scaled)
print(f"out = {out}, dx = {dx}")
C.check(np.allclose(out, [2, 0, 6, 8]) and np.allclose(dx, [2, 0, 2, 2]),
        "out = [2, 0, 6, 8] and dx = [2, 0, 2, 2] as computed by hand")

layer = Dropout(0.5)


def reseed():  # the same mask for every forward pass of the check
    layer.rng = np.random.default_rng(123)


errs = check_layer(layer.train(), rng.standard_normal((4, 10)), rng, before_forward=reseed)
C.check(errs["dx"] < 1e-6, "dx = dout * mask / (1 - p), checked by finite differences")

# %% [markdown]
# ## 2. Inverted dropout vs the paper's test-time scaling
#
# The paper trains with `out = x * m` (no scale) and tests with `out = (1 - p) * x`, so the
# expected training output `(1 - p) x` equals the test output. Inverted dropout scales in
# training instead: `E[x * m / (1 - p)] = x`, and at test time the layer does nothing. The two
# networks differ only by a factor `1 - p` on fc6 and fc7's outputs, which the next layer's
# weights absorb: a network trained one way becomes the other by multiplying those weights by
# `1 - p`. The inverted form leaves the test-time network untouched, so evaluation code needs
# no dropout at all.

# %%
n_units = 2000 if QUICK else 20000
ones = np.ones((1, n_units))
layer = Dropout(0.5, rng=rng)
outs = np.stack([layer.train().forward(ones) for _ in range(50)])
print(f"fraction dropped {np.mean(outs == 0):.3f}; mean output {outs.mean():.3f} (x = 1)")
C.check(abs(np.mean(outs == 0) - 0.5) < 0.02, "about half the units are dropped")
C.check(abs(outs.mean() - 1) < 0.02, "E[out] = x with the 1/(1-p) scale")
C.check(np.array_equal(layer.eval().forward(ones), ones), "in eval mode the layer is the identity")

W_next = rng.standard_normal((3, 8))
h = rng.standard_normal((5, 8))
masks = rng.random((4000, 1, 8)) >= 0.5  # 4000 training-time masks, paper form: no scale
train_mean = ((h * masks) @ W_next.T).mean(axis=0)  # what fc7 sees on average in training
paper_test = (0.5 * h) @ W_next.T  # the paper's test time: every unit, times 0.5
print(f"max |mean over masks - paper's test output| = {np.abs(train_mean - paper_test).max():.3f}"
      f" (unscaled test output would be off by {np.abs(h @ W_next.T - paper_test).max():.2f})")
C.check(np.allclose(train_mean, paper_test, atol=0.15),
        "the paper's 0.5 at test time matches the training-time average of the next layer")

fig, ax = plt.subplots(figsize=(5, 2.2))
ax.imshow(outs[:10, 0, :60], cmap="gray")
ax.set_title("10 masks (rows) on 60 units: white = kept and doubled, black = dropped",
             fontsize=8)
ax.set_xlabel("unit")
ax.set_ylabel("forward pass")
C.show(fig, "08_masks.png")

# %% [markdown]
# ## Exercises
#
# - `lessons/exercises/dropout.py`: write `Dropout.backward` (training and eval mode).
# - Question `q08_dx` in `lessons/exercises/answers.py`.
# - What goes wrong in a gradient check if the layer draws a new mask on every forward call?
