# %% [markdown]
# # Lesson 04 - Local response normalization: the formula, its backward pass, the alpha trap
#
# Paper, sec. 3.3: after the ReLUs of conv1 and conv2, each activation is divided by a power of
# the energy of its neighbours *across channels* at the same pixel:
#
#     den[i] = k + alpha * sum_{j in W(i)} a[j]^2          W(i) = channels i - n/2 .. i + n/2
#     b[i]   = a[i] / den[i]^beta                           k = 2, n = 5, alpha = 1e-4, beta = 0.75
#
# **Prerequisites:** lesson 00 (chain rule; a value used in several places: its gradients add).
# **You will be able to:** derive both terms of the LRN gradient, including the cross-channel
# one; compute an entry of the Jacobian by hand; avoid the alpha-vs-alpha/n trap when
# comparing with PyTorch or Caffe.

# %%
import _common as C
import matplotlib.pyplot as plt
import numpy as np

from alexnet_np.gradcheck import check_layer, numerical_gradient
from alexnet_np.layers import (
    LocalResponseNorm,
    lrn_backward,
    lrn_backward_naive,
    lrn_forward,
    lrn_forward_naive,
)

QUICK = C.QUICK
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. The formula, on one pixel with 7 channels
#
# Channel `i`'s window is clipped at the ends (channel 0 sees channels 0..2).

# %%
a = np.array([0.0, 10, 40, 5, 0, 0, 80]).reshape(1, 7, 1, 1)
b, _ = lrn_forward(a, size=5, alpha=1e-4, beta=0.75, k=2.0)
for i in range(7):
    lo, hi = max(0, i - 2), min(6, i + 2)
    den = 2 + 1e-4 * np.sum(a[0, lo:hi + 1, 0, 0] ** 2)
    print(f"  channel {i}: a={a[0, i, 0, 0]:5.1f}  window {lo}..{hi}  den={den:7.3f}  "
          f"b={b[0, i, 0, 0]:7.3f}")
C.check(np.allclose(b, lrn_forward_naive(a)[0]), "vectorised LRN == the loop oracle")
C.check(b[0, 6, 0, 0] < b[0, 2, 0, 0] * 2,
        "a strong activation is damped the most (80 -> less than twice what 40 gives)")

# %% [markdown]
# ## 2. Deriving the backward pass
#
# `b[i]` depends on `a[m]` in two ways: **directly** when `m = i` (the numerator), and
# **through the denominator** whenever `m` is in the window `W(i)`, because `den[i]` contains
# `a[m]^2`. The quotient/power rule on `b[i] = a[i] * den[i]^(-beta)`:
#
#     d den[i] / d a[m] = 2 * alpha * a[m]                         if m in W(i), else 0
#     d b[i] / d a[m]   = [m == i] * den[i]^(-beta)
#                         - beta * a[i] * den[i]^(-beta - 1) * 2 * alpha * a[m] * [m in W(i)]
#
# The second term is the *cross-channel* term: raising `a[m]` lowers every neighbour `b[i]`.
# The chain rule sums over every output that `a[m]` reaches (all `i` whose window holds `m`):
#
#     da[m] = sum_i dout[i] * d b[i]/d a[m]
#           = dout[m] * den[m]^(-beta)
#             - 2 * alpha * beta * a[m] * sum_{i : m in W(i)} dout[i] * a[i] * den[i]^(-beta-1)
#
# The code caches `den` and `b` and writes `a[i] * den[i]^(-beta-1)` as `b[i] / den[i]`.
#
# **By hand.** Three channels, window size 3 (`W(i) = i-1 .. i+1`), `k = 1`, `alpha = 0.1`,
# `beta = 1` (to keep the arithmetic easy), `a = [1, 2, 3]`:
#
#     den = [1 + 0.1*(1 + 4), 1 + 0.1*(1 + 4 + 9), 1 + 0.1*(4 + 9)] = [1.5, 2.4, 2.3]
#     d b[0]/d a[0] = 1/1.5 - 0.2 * 1 * 1 / 1.5^2 = 0.66667 - 0.08889 =  0.57778
#     d b[1]/d a[0] =       - 0.2 * 2 * 1 / 2.4^2 =                   - 0.06944
#     d b[2]/d a[0] = 0                      (channel 0 is not in W(2) = {1, 2})
#
# With `dout = [1, 1, 1]`: `da[0] = 0.57778 - 0.06944 = 0.50833`.

# %%
a3 = np.array([1.0, 2.0, 3.0]).reshape(1, 3, 1, 1)
params = {"size": 3, "alpha": 0.1, "beta": 1.0, "k": 1.0}
out3, cache = lrn_forward(a3, **params)
den3 = cache[2].ravel()
print("den =", den3)
jac = np.zeros((3, 3))  # jac[i, m] = d b[i] / d a[m], column m by nudging a[m]
eps = 1e-6
for m in range(3):
    e = np.zeros_like(a3)
    e[0, m] = eps
    jac[:, m] = ((lrn_forward(a3 + e, **params)[0] - lrn_forward(a3 - e, **params)[0])
                 / (2 * eps)).ravel()
print("Jacobian d b[i] / d a[m] by nudging:\n", jac.round(5))
C.check(np.allclose(den3, [1.5, 2.4, 2.3]), "den = [1.5, 2.4, 2.3]")
C.check(abs(jac[0, 0] - 0.57778) < 1e-5 and abs(jac[1, 0] + 0.06944) < 1e-5
        and jac[2, 0] == 0, "the hand values 0.57778, -0.06944 and 0 (outside the window)")
da = lrn_backward(np.ones_like(a3), cache).ravel()
print("lrn_backward with dout = [1, 1, 1]:", da.round(5))
C.check(abs(da[0] - 0.50833) < 1e-5, "da[0] = 0.50833 by hand, by lrn_backward")
C.check(np.allclose(da, jac.sum(axis=0)), "lrn_backward = dout @ Jacobian (all cross terms)")

# %% [markdown]
# Drop the cross-channel term and the gradient is wrong everywhere a neighbour is active:

# %%
direct_only = (np.ones(3) * den3 ** -1.0)
print(f"direct term only: {direct_only.round(5)} vs the full gradient {da.round(5)}")
C.check(not np.allclose(direct_only, da), "the cross-channel term matters")

# %% [markdown]
# ## 3. Checked with the paper's constants, on real shapes
#
# The hand example used `beta = 1`; the derivation did not. With the paper's `beta = 0.75` and
# `k = 2` we compare the vectorised backward pass against the channel-by-channel oracle (a
# second implementation) and finite differences in float64. A large `alpha` makes the
# cross-channel term big enough for the check to mean something.

# %%
shape = (1, 7, 2, 2) if QUICK else (2, 16, 4, 4)
x = rng.standard_normal(shape) * 2
dout = rng.standard_normal(shape)
out, cache = lrn_forward(x, 5, 0.3, 0.75, 2.0)
dx = lrn_backward(dout, cache)
dx_naive = lrn_backward_naive(dout, lrn_forward_naive(x, 5, 0.3, 0.75, 2.0)[1])
dx_num = numerical_gradient(lambda: lrn_forward(x, 5, 0.3, 0.75, 2.0)[0], x, dout)
errs = check_layer(LocalResponseNorm(5, alpha=0.3, beta=0.75, k=2.0), x, rng)
print(f"max |dx - oracle| = {np.abs(dx - dx_naive).max():.1e}, "
      f"max |dx - numeric| = {np.abs(dx - dx_num).max():.1e}, check_layer {errs['dx']:.1e}")
C.check(np.allclose(dx, dx_naive) and np.allclose(dx, dx_num, atol=1e-7),
        "LRN backward == the loop oracle == finite differences")

# %% [markdown]
# ## 4. The trap: alpha vs alpha / n
#
# The paper's `alpha` multiplies the sum directly. cuda-convnet2, Caffe and PyTorch divide it by
# the window size `n`, and PyTorch defaults `k` to 1. So the paper's layer is PyTorch's
# `LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2)`, not `LocalResponseNorm(5)`.

# %%
x = np.abs(rng.standard_normal((1, 96, 4, 4))) * 60  # post-ReLU, raw-pixel scale
paper, _ = lrn_forward(x, 5, 1e-4, 0.75, 2.0)
pytorch_default, _ = lrn_forward(x, 5, 1e-4 / 5, 0.75, 1.0)  # torch LRN(5) defaults
pytorch_matched, _ = lrn_forward(x, 5, 5e-4 / 5, 0.75, 2.0)  # torch LRN(5, 5e-4, .75, 2)
print(f"mean output: paper {paper.mean():.3f}, PyTorch defaults (alpha/n, k=1) "
      f"{pytorch_default.mean():.3f}, PyTorch with alpha=5e-4, k=2 {pytorch_matched.mean():.3f}")
C.check(np.allclose(paper, pytorch_matched),
        "paper's LRN == PyTorch LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2)")
C.check(not np.allclose(paper, pytorch_default), "PyTorch's defaults are a different layer")

s = np.linspace(0, 300, 200)
fig, ax = plt.subplots(figsize=(5.5, 3.2))
for alpha, k, label in [(1e-4, 2, "paper: alpha=1e-4, k=2"), (2e-5, 2, "alpha/n, k=2"),
                        (2e-5, 1, "alpha/n, k=1 (torch default)")]:
    ax.plot(s, s / (k + alpha * 5 * s ** 2) ** 0.75, label=label)
ax.set_xlabel("a (all 5 neighbours equal to a)")
ax.set_ylabel("b")
ax.legend(fontsize=7)
ax.set_title("LRN response: the paper's constants damp large activations")
C.show(fig, "04_lrn_alpha.png")

# %% [markdown]
# ## Exercises
#
# - `lessons/exercises/lrn.py`: write `LocalResponseNorm.backward` from section 2.
# - Question `q04_cross` in `lessons/exercises/answers.py`: a cross-channel Jacobian entry.
# - With `beta = 1` and `k = 1`, what is `d b[2] / d a[1]` in the hand example? (Check it
#   against `jac[2, 1]` above.)
