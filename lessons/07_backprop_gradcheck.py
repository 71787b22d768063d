# %% [markdown]
# # Lesson 07 - Checking backpropagation: finite differences, kinks, ties, float32
#
# Lessons 00-06 derived every backward pass by hand. A derivation can be wrong, and so can its
# code; every backward pass in `alexnet_np` is therefore checked twice: against an independent
# implementation (a loop oracle or hand-computed values) and against centred finite
# differences in float64 (CS231n's method). This lesson shows how to check, and when the check
# itself lies.
#
# **Prerequisites:** lessons 00, 02, 05, 06. **You will be able to:** choose `eps`, explain why
# gradient checks need float64, avoid kinks and ties, and check a whole network.
#
# The relative error used everywhere: `max|a - b| / max(max|a|, max|b|)` (the worst entry,
# relative to the larger tensor), so that large and small gradients are judged alike.

# %%
import _common as C
import matplotlib.pyplot as plt
import numpy as np

from alexnet_np.gradcheck import check_model, numerical_gradient, rel_error
from alexnet_np.layers import ReLU
from alexnet_np.model import build_model

QUICK = C.QUICK
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. Truncation vs rounding: choosing eps, and why float64
#
# The centred difference `(f(x + eps) - f(x - eps)) / (2 eps)` has a truncation error of order
# `eps^2` and a rounding error of order `machine precision / eps`. The best `eps` balances
# them: around `1e-5` in float64, where the error reaches ~1e-10. In float32 (precision ~1e-7)
# the best error is ~1e-4 or worse: too coarse to tell a right gradient from a slightly wrong
# one.

# %%
epss = np.logspace(-12, -1, 23)
errs = {}
for dt in (np.float64, np.float32):
    x0 = dt(0.7)
    errs[dt.__name__] = [abs((np.sin(x0 + dt(e)) - np.sin(x0 - dt(e))) / (2 * dt(e))
                             - np.cos(0.7)) for e in epss]
best64, best32 = min(errs["float64"]), min(errs["float32"])
print(f"best error of d sin/dx at 0.7: float64 {best64:.1e}, float32 {best32:.1e}")
C.check(best64 < 1e-9 and best32 > 1e-6, "float32 cannot check gradients to 1e-6")
fig, ax = plt.subplots(figsize=(5, 3))
for k, v in errs.items():
    ax.loglog(epss, np.maximum(v, 1e-17), label=k)
ax.set_xlabel("eps")
ax.set_ylabel("|numeric - exact|")
ax.set_title("centred differences: rounding (left) vs truncation (right)", fontsize=9)
ax.legend()
C.show(fig, "07_eps.png")

# %% [markdown]
# ## 2. Kinks: a ReLU input within eps of 0
#
# At `x = 1e-7` with `eps = 1e-5`, `x - eps` is negative and `x + eps` positive: the
# difference straddles the kink and measures a slope of about 0.5, while the derivative at
# `x` is 1. The gradient is right; the check is wrong. Test inputs must keep away from kinks
# (and, for max-pooling, from ties, lesson 05).

# %%
x = np.array([[1e-7, -0.5, 0.8]])
layer = ReLU()
layer.forward(x)
dx = layer.backward(np.ones_like(x))
num = numerical_gradient(lambda: layer.forward(x), x, np.ones_like(x))
print(f"analytic {dx[0]}, numeric {num[0]}")
C.check(rel_error(dx, num) > 0.1, "finite differences lie at a kink")
x_safe = np.array([[0.3, -0.5, 0.8]])
layer.forward(x_safe)
C.check(rel_error(layer.backward(np.ones_like(x_safe)),
                  numerical_gradient(lambda: layer.forward(x_safe), x_safe,
                                     np.ones_like(x_safe))) < 1e-8,
        "away from the kink the check passes")

# %% [markdown]
# ## 3. The whole network: every parameter of the micro preset
#
# A network is layers chained by the chain rule, so checking each layer is not quite enough:
# the wiring between them (which cache goes where, the order of the backward calls) can be
# wrong too. `check_model` nudges sampled entries of every parameter tensor and compares the
# loss's change with the gradients from one backward pass through all layers of the reference
# (plain NumPy) model.

# %%
model = build_model("micro", num_classes=10, seed=0, dtype=np.float64, fast=False)
x = rng.standard_normal((2, 3, 15, 15))
errs = check_model(model, x, np.array([1, 7]), rng, sample=3 if QUICK else 20)
worst = max(errs, key=errs.get)
print(f"{len(errs)} parameter tensors; worst {worst}: {errs[worst]:.1e}")
C.check(errs[worst] < 1e-5, "backprop through the whole network matches finite differences")

# %% [markdown]
# ## Exercises
#
# - Break one line of a solution in `lessons/exercises/solutions.py` (e.g. drop the `+` of an
#   accumulation) and watch `alexnet-np grade` catch it.
# - Repeat section 3 in float32: how large does the "error" become?
