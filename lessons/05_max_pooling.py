"""Lesson 05 - Overlapping max-pooling and its backward pass.

Paper, sec. 3.4: windows z=3 at stride s=2 overlap; this cut top-1 error by 0.4% vs z=s=2.
Overlap means one input can win several windows, and its gradient is the SUM.
Run: python lessons/05_max_pooling.py [--quick]
"""

# %%
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)) if "__file__" in globals()
                else os.path.abspath("lessons"))
import _common as C
import matplotlib.pyplot as plt
import numpy as np

from alexnet_np.gradcheck import check_layer, distinct_values
from alexnet_np.layers import MaxPool2d, maxpool2d_backward, maxpool2d_forward


def part_forward():
    C.section("1. A 5x5 input, windows 3x3 at stride 2 -> 2x2")
    x = np.array([[1, 2, 0, 1, 0], [0, 3, 1, 0, 2], [1, 0, 9, 0, 1], [2, 1, 0, 1, 0],
                  [0, 1, 2, 0, 1]], dtype=float)[None, None]
    out, cache = maxpool2d_forward(x, 3, 2)
    print("input:\n", x[0, 0])
    print("output (every window contains the 9 in the middle):\n", out[0, 0])
    dx = maxpool2d_backward(np.ones_like(out), cache)
    print("dx for dout = 1 everywhere:\n", dx[0, 0])
    C.check(dx[0, 0, 2, 2] == 4, "the centre won all four windows and gets gradient 4, not 1")
    return x, dx


def part_assign_bug(rng):
    C.section("2. The classic bug: assigning instead of accumulating")
    x = distinct_values(rng, (1, 1, 7, 7))
    out, cache = maxpool2d_forward(x, 3, 2)
    dout = rng.standard_normal(out.shape)
    good = maxpool2d_backward(dout, cache)
    _, arg, k, s = cache
    bad = np.zeros_like(x)
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            u, v = divmod(int(arg[0, 0, i, j]), k)
            bad[0, 0, i * s + u, j * s + v] = dout[0, 0, i, j]  # '=' loses earlier windows
    wins = np.zeros_like(x)
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            u, v = divmod(int(arg[0, 0, i, j]), k)
            wins[0, 0, i * s + u, j * s + v] += 1
    wrong = ~np.isclose(good, bad)
    print(f"inputs that win 2+ windows: {int((wins > 1).sum())}; entries the buggy version "
          f"gets wrong: {int(wrong.sum())}")
    C.check(np.all(wins[wrong] > 1), "the bug is wrong exactly where windows overlap")
    return wins


def part_gradcheck(rng, out, wins):
    C.section("3. Gradient check: ties make finite differences lie")
    errs = check_layer(MaxPool2d(3, 2), distinct_values(rng, (2, 3, 7, 7)), rng)
    print("distinct values:", {k: f"{v:.1e}" for k, v in errs.items()})
    C.check(errs["dx"] < 1e-6, "backward agrees with finite differences on tie-free input")
    tied = np.zeros((1, 1, 5, 5))  # all equal: every window is one big tie
    errs_tied = check_layer(MaxPool2d(3, 2), tied, rng)
    print(f"all-equal input: relative error {errs_tied['dx']:.2f} (a tie flips the argmax "
          "under a +eps nudge)")
    C.check(errs_tied["dx"] > 1e-3, "with ties the numerical gradient disagrees")
    fig, ax = plt.subplots(figsize=(3, 3))
    im = ax.imshow(wins[0, 0], cmap="viridis")
    fig.colorbar(im)
    ax.set_title("windows won per input (3/2)")
    C.savefig(fig, out, "05_windows_won.png")


def main(argv=None):
    args = C.parse(argv, __doc__)
    rng = np.random.default_rng(0)
    part_forward()
    wins = part_assign_bug(rng)
    part_gradcheck(rng, args.out, wins)
    print("\nLesson 05 done: every self-check passed.")
    return 0


# %%
if __name__ == "__main__":
    raise SystemExit(main())
