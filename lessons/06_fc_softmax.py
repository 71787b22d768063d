# %% [markdown]
# # Lesson 06 - Flatten, fully connected layers, softmax and cross-entropy
#
# Paper, sec. 3.5 / Fig. 2: pool5's `(N, 256, 6, 6)` maps are flattened into 9216 numbers;
# fc6 (9216 -> 4096), fc7 (4096 -> 4096) and fc8 (4096 -> 1000) follow, then a 1000-way
# softmax; training maximises the log-probability of the correct label.
#
# **Prerequisites:** lesson 00 (chain rule, gates), matrix products. **You will be able to:**
# derive the three gradients of a linear layer (by one entry, and by the dimension argument),
# derive `dz = p - y` for softmax cross-entropy, and say why flatten's backward pass is a
# reshape.

# %%
import _common as C
import matplotlib.pyplot as plt
import numpy as np

from alexnet_np.gradcheck import check_layer, check_loss
from alexnet_np.layers import (
    Linear,
    SoftmaxCrossEntropy,
    flatten_backward,
    flatten_forward,
    linear_backward,
    linear_forward,
    softmax_xent_backward,
    softmax_xent_forward,
)

QUICK = C.QUICK
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. Flatten: a reshape, so its backward pass is the inverse reshape
#
# `out[n, c*H*W + h*W + w] = x[n, c, h, w]` (C order, as `torch.flatten(x, 1)`). Every output
# entry *is* one input entry, with derivative 1, and every input appears exactly once: the
# Jacobian is an identity with the entries renumbered. So `dx = dout.reshape(x.shape)`, no
# arithmetic at all.

# %%
x = rng.standard_normal((2, 3, 2, 2))
out, cache = flatten_forward(x)
n, c, h, w = 1, 2, 1, 0
print(f"x {x.shape} -> out {out.shape}; x[{n},{c},{h},{w}] is out[{n}, {c * 4 + h * 2 + w}]")
C.check(out[n, c * 4 + h * 2 + w] == x[n, c, h, w], "out[n, c*H*W + h*W + w] = x[n, c, h, w]")
dout = rng.standard_normal(out.shape)
C.check(np.array_equal(flatten_backward(dout, cache), dout.reshape(x.shape)),
        "dx = dout reshaped to x's shape")

# %% [markdown]
# ## 2. Linear: one entry, then the dimension argument
#
#     out[n, o] = sum_i x[n, i] * W[o, i] + b[o]          out = x @ W.T + b
#
# **One entry at a time.** `W[o, i]` is used in `out[n, o]` for every image `n`, multiplied by
# `x[n, i]` (multiply gate); the uses add: `dW[o, i] = sum_n dout[n, o] * x[n, i]`. Likewise
# `x[n, i]` feeds every output `o` of its image: `dx[n, i] = sum_o dout[n, o] * W[o, i]`; and
# `b[o]` is added to every image: `db[o] = sum_n dout[n, o]`.
#
# **The dimension argument** (CS231n) gets the same answer in one line each: the gradient has
# the shape of what it is the gradient of, and it must be a product of `dout (N, out)` with the
# other factor. `dx (N, in)` can only be `dout (N, out) @ W (out, in)`; `dW (out, in)` can only
# be `dout.T (out, N) @ x (N, in)`; `db (out,)` is `dout` summed over `N`.
#
# **By hand.** One image `x = [[1, 2]]`, three outputs, `W = [[1, 0], [2, -1], [0, 3]]`,
# `dout = [[1, -1, 2]]`:
#
#     dx = dout @ W   = [[1*1 - 1*2 + 2*0, 1*0 - 1*(-1) + 2*3]] = [[-1, 7]]
#     dW = dout.T @ x = [[1, 2], [-1, -2], [2, 4]]        db = [1, -1, 2]

# %%
x = np.array([[1.0, 2.0]])
W = np.array([[1.0, 0.0], [2.0, -1.0], [0.0, 3.0]])
dout = np.array([[1.0, -1.0, 2.0]])
_, cache = linear_forward(x, W, np.zeros(3))
dx, dW, db = linear_backward(dout, cache)
print("dx =", dx, "\ndW =\n", dW, "\ndb =", db)
C.check(np.allclose(dx, [[-1, 7]]) and np.allclose(dW, [[1, 2], [-1, -2], [2, 4]])
        and np.allclose(db, [1, -1, 2]), "linear_backward reproduces the hand values")

layer = Linear(6, 4, rng=rng, dtype=np.float64, std=1.0)
errs = check_layer(layer, rng.standard_normal((3, 6)), rng)
print("gradient check on a (3, 6) -> (3, 4) layer:", {k: f"{v:.1e}" for k, v in errs.items()})
C.check(max(errs.values()) < 1e-6, "dx, dW, db agree with finite differences")
fc6 = 9216 * 4096 + 4096
print(f"fc6 alone has {fc6:,} parameters: {fc6 / 60_965_224:.0%} of AlexNet")
C.check(fc6 == 37_752_832, "fc6 holds 37,752,832 parameters")

# %% [markdown]
# ## 3. Softmax cross-entropy: `dz = p - y`
#
#     p[k] = exp(z[k]) / sum_j exp(z[j])           L = -log p[y] = -z[y] + log sum_j exp(z[j])
#
# Differentiate the second form: `-z[y]` gives `-[k == y]`; `log sum_j exp(z[j])` gives
# `exp(z[k]) / sum_j exp(z[j]) = p[k]`. Together:
#
#     dL/dz[k] = p[k] - [k == y]             (for the mean over N images: divide by N)
#
# The gradient pushes the correct logit up by `1 - p[y]` and every other logit down by its
# probability; it vanishes only when the network is certain and right.
#
# **By hand.** `z = [0, ln 2, 0]`, label `y = 1`: `exp(z) = [1, 2, 1]`, so
# `p = [1/4, 1/2, 1/4]`, `L = -ln(1/2) = ln 2 = 0.6931` and `dz = [0.25, -0.5, 0.25]`.

# %%
z = np.array([[0.0, np.log(2.0), 0.0]])
loss, cache = softmax_xent_forward(z, np.array([1]))
dz = softmax_xent_backward(1.0, cache)
print(f"loss {float(loss):.4f}, dz {dz.ravel()}")
C.check(abs(loss - np.log(2)) < 1e-12 and np.allclose(dz, [[0.25, -0.5, 0.25]]),
        "L = ln 2 and dz = p - y = [0.25, -0.5, 0.25]")
logits, labels = rng.standard_normal((5, 10)), rng.integers(0, 10, 5)
errs = check_loss(SoftmaxCrossEntropy(), logits, labels)
C.check(errs["dlogits"] < 1e-6, "dlogits = (p - onehot(y)) / N, checked numerically")

# %% [markdown]
# ## 4. The max shift, and the loss at chance
#
# `exp(1000)` overflows to `inf`. Subtracting each row's maximum changes no probability
# (numerator and denominator are both multiplied by `exp(-max)`) and keeps every exponent
# `<= 0`. And a network that knows nothing (all logits equal) has `p = 1/K` and loss `ln K`:
# the first number to check in any training run (lesson 12).

# %%
z = np.array([[1000.0, 999.0, -1000.0]])
with np.errstate(over="ignore", invalid="ignore"):
    naive = np.exp(z) / np.exp(z).sum()
value = SoftmaxCrossEntropy().forward(z, np.array([1]))
print(f"naive softmax of {z[0].tolist()}: {naive[0]}; with the max shift the loss is "
      f"{value:.4f} = log(1 + e)")
C.check(np.isnan(naive).any() and abs(value - np.log(1 + np.e)) < 1e-9,
        "the shift prevents overflow and gives log(1 + e)")
K = 1000
zero = SoftmaxCrossEntropy().forward(np.zeros((4, K)), np.arange(4))
C.check(abs(zero - np.log(K)) < 1e-6, f"a network at chance has loss ln({K}) = {np.log(K):.3f}")

t = np.linspace(-6, 6, 61 if QUICK else 241)
fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(t, np.log1p(np.exp(-t)), label="loss")
ax.plot(t, -1 / (1 + np.exp(t)), "--", label="dL/d(correct logit) = p - 1")
ax.set_xlabel("correct logit minus the other (2 classes)")
ax.legend(fontsize=8)
ax.set_title("cross-entropy and its gradient")
C.show(fig, "06_xent.png")

# %% [markdown]
# ## Exercises
#
# - `lessons/exercises/linear.py`, `softmax_xent.py`, `flatten.py`: write the backward passes.
# - Questions `q06_linear_dw`, `q06_softmax_loss`, `q06_softmax_dz` in
#   `lessons/exercises/answers.py`.
# - fc8's `dW` has 4096 * 1000 = 4,096,000 entries. For a batch of 128, how many
#   multiply-adds does `dout.T @ x` cost?
