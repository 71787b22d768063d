# %% [markdown]
# # Lesson 05 - Overlapping max-pooling and its backward pass
#
# Paper, sec. 3.4: windows of `z = 3` at stride `s = 2` overlap; this cut top-1 error by 0.4%
# compared with `z = s = 2`. Overlap means one input can win several windows.
#
# **Prerequisites:** lesson 00 (the max gate routes; gradients of a value used twice add up).
# **You will be able to:** derive the max-pool backward pass (routing), compute a `dx` entry
# by hand when windows overlap, and explain why finite differences lie at ties.

# %%
import _common as C
import matplotlib.pyplot as plt
import numpy as np

from alexnet_np.gradcheck import check_layer, distinct_values
from alexnet_np.layers import (
    MaxPool2d,
    maxpool2d_backward,
    maxpool2d_backward_naive,
    maxpool2d_forward,
    maxpool2d_forward_naive,
)

QUICK = C.QUICK
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. Deriving the backward pass
#
#     out[i, j] = max_{u, v < K} x[i*s + u, j*s + v]
#
# Inside one window the max is the max gate of lesson 00: its derivative is 1 for the input
# that wins and 0 for the others (a small nudge of a non-winner does not change the max; a
# nudge of the winner moves the max by the same amount). So each output sends its `dout` to
# the position of its window's maximum. An input that wins several windows is used several
# times, and its gradients add:
#
#     dx[y, z] = sum over windows (i, j) whose argmax is (y, z) of dout[i, j]
#
# **By hand.** A 5x5 input, windows 3x3 at stride 2 -> a 2x2 output. The 9 in the middle
# lies in all four windows and is the largest in each, so all four outputs are 9, and with
# `dout = [[1, 2], [3, 4]]` the centre receives `1 + 2 + 3 + 4 = 10`; every other input 0.

# %%
x = np.array([[1, 2, 0, 1, 0], [0, 3, 1, 0, 2], [1, 0, 9, 0, 1], [2, 1, 0, 1, 0],
              [0, 1, 2, 0, 1]], dtype=float)[None, None]
out, cache = maxpool2d_forward(x, 3, 2)
dout = np.array([[1.0, 2.0], [3.0, 4.0]])[None, None]
dx = maxpool2d_backward(dout, cache)
print("output:\n", out[0, 0], "\ndx:\n", dx[0, 0])
C.check(np.all(out == 9), "every window contains the 9 in the middle")
C.check(dx[0, 0, 2, 2] == 10 and dx.sum() == 10, "the centre gets 1 + 2 + 3 + 4 = 10, "
        "every other input 0")

# %% [markdown]
# A second example where the winners differ: move the 9 to the corner and put an 8 on the
# right edge. Now the top-left window's max is the 9 (at (0, 0)), the two right windows share
# the 8 at (2, 4), and the bottom-left window's max is the 7 at (4, 0).
# With the same `dout`: `dx[0, 0] = 1`, `dx[2, 4] = 2 + 4 = 6`, `dx[4, 0] = 3`.

# %%
x2 = np.array([[9, 2, 0, 1, 0], [0, 3, 1, 0, 2], [1, 0, 5, 0, 8], [2, 1, 0, 1, 0],
               [7, 1, 2, 0, 1]], dtype=float)[None, None]
out2, cache2 = maxpool2d_forward(x2, 3, 2)
dx2 = maxpool2d_backward(dout, cache2)
print("output:\n", out2[0, 0], "\ndx:\n", dx2[0, 0])
C.check(dx2[0, 0, 0, 0] == 1 and dx2[0, 0, 2, 4] == 6 and dx2[0, 0, 4, 0] == 3,
        "dx[0, 0] = 1, dx[2, 4] = 2 + 4 = 6 (two windows), dx[4, 0] = 3")
C.check(np.allclose(dx2, maxpool2d_backward_naive(dout, maxpool2d_forward_naive(x2, 3, 2)[1])),
        "the vectorised backward == the loop oracle")

fig, axes = plt.subplots(1, 3, figsize=(8, 2.9))
for ax, arr, title in [(axes[0], x2[0, 0], "input x"), (axes[1], dout[0, 0], "dout"),
                       (axes[2], dx2[0, 0], "dx: routed, overlaps summed")]:
    ax.imshow(arr, cmap="Blues")
    for (r, c), val in np.ndenumerate(arr):
        ax.text(c, r, f"{val:g}", ha="center", va="center", fontsize=10,
                color="w" if val > 0.6 * arr.max() else "k")
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
fig.tight_layout()
C.show(fig, "05_routing.png")

# %% [markdown]
# ## 2. The classic bug: assigning instead of accumulating
#
# Written as `dx[...] = dout[...]`, the last window to write wins and the others are lost. It
# is right wherever windows do not overlap, and wrong exactly where they do.

# %%
x = distinct_values(rng, (1, 1, 7, 7) if QUICK else (1, 1, 13, 13))
out, cache = maxpool2d_forward(x, 3, 2)
dout = rng.standard_normal(out.shape)
good = maxpool2d_backward(dout, cache)
_, arg, k, s = cache
bad = np.zeros_like(x)
wins = np.zeros_like(x)
for i in range(out.shape[2]):
    for j in range(out.shape[3]):
        u, v = divmod(int(arg[0, 0, i, j]), k)
        bad[0, 0, i * s + u, j * s + v] = dout[0, 0, i, j]  # '=' loses earlier windows
        wins[0, 0, i * s + u, j * s + v] += 1
wrong = ~np.isclose(good, bad)
print(f"inputs that win 2+ windows: {int((wins > 1).sum())}; entries the buggy version gets "
      f"wrong: {int(wrong.sum())}")
C.check(wrong.any() and np.all(wins[wrong] > 1), "the bug is wrong exactly where windows overlap")

# %% [markdown]
# ## 3. Gradient check: ties make finite differences lie
#
# With distinct values the max is differentiable and the centred difference agrees. When two
# inputs tie for the max, a `+eps` nudge and a `-eps` nudge pick different winners and the
# numerical "derivative" is meaningless: draw test inputs without ties.

# %%
errs = check_layer(MaxPool2d(3, 2), distinct_values(rng, (2, 3, 7, 7)), rng)
print("distinct values:", {k: f"{v:.1e}" for k, v in errs.items()})
C.check(errs["dx"] < 1e-6, "backward agrees with finite differences on tie-free input")
errs_tied = check_layer(MaxPool2d(3, 2), np.zeros((1, 1, 5, 5)), rng)
print(f"all-equal input: relative error {errs_tied['dx']:.2f}")
C.check(errs_tied["dx"] > 1e-3, "with ties the numerical gradient disagrees")

# %% [markdown]
# ## Exercises
#
# - `lessons/exercises/maxpool2d.py`: write `MaxPool2d.backward`.
# - Question `q05_dx` in `lessons/exercises/answers.py`: a `dx` entry with overlapping windows.
# - AlexNet pools 55 -> 27 with `z = 3, s = 2`. How many windows can one input win at most?
