"""Lesson 04 - Local response normalization, and the alpha vs alpha/n trap.

Paper, sec. 3.3: after the ReLUs of conv1 and conv2, each activation is divided by a power of
the energy of its neighbours across channels:
    b[i] = a[i] / (k + alpha * sum_{j in window(i)} a[j]^2) ** beta,  k=2, n=5, alpha=1e-4,
beta=0.75. The paper's alpha is NOT divided by n; PyTorch and Caffe divide it.
Run: python lessons/04_lrn.py [--quick]
"""

# %%
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)) if "__file__" in globals()
                else os.path.abspath("lessons"))
import _common as C
import matplotlib.pyplot as plt
import numpy as np

from alexnet_np.gradcheck import check_layer
from alexnet_np.layers import LocalResponseNorm, lrn_forward, lrn_forward_naive


def part_formula(rng):
    C.section("1. The formula, on one pixel with 7 channels")
    a = np.array([0.0, 10, 40, 5, 0, 0, 80]).reshape(1, 7, 1, 1)
    b, _ = lrn_forward(a, size=5, alpha=1e-4, beta=0.75, k=2.0)
    for i in range(7):
        lo, hi = max(0, i - 2), min(6, i + 2)
        den = 2 + 1e-4 * np.sum(a[0, lo:hi + 1, 0, 0] ** 2)
        print(f"  channel {i}: a={a[0, i, 0, 0]:5.1f}  window {lo}..{hi}  den={den:7.3f}  "
              f"b={b[0, i, 0, 0]:7.3f}")
    C.check(np.allclose(b, lrn_forward_naive(a)[0]), "vectorised LRN == the loop oracle")
    C.check(b[0, 6, 0, 0] < b[0, 2, 0, 0] * 2, "a strong activation is damped the most "
            "(80 -> less than twice what 40 gives)")


def part_trap(rng, out):
    C.section("2. The trap: alpha vs alpha / n")
    x = np.abs(rng.standard_normal((1, 96, 4, 4))) * 60  # post-ReLU, raw-pixel scale
    paper, _ = lrn_forward(x, 5, 1e-4, 0.75, 2.0)
    pytorch_default, _ = lrn_forward(x, 5, 1e-4 / 5, 0.75, 1.0)  # torch LRN(5) defaults
    pytorch_matched, _ = lrn_forward(x, 5, 5e-4 / 5, 0.75, 2.0)  # torch LRN(5, 5e-4, .75, 2)
    print(f"mean output: paper {paper.mean():.3f}, PyTorch defaults (alpha/n, k=1) "
          f"{pytorch_default.mean():.3f}, PyTorch with alpha=5e-4, k=2 "
          f"{pytorch_matched.mean():.3f}")
    C.check(np.allclose(paper, pytorch_matched),
            "paper's LRN == PyTorch LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2)")
    C.check(not np.allclose(paper, pytorch_default), "PyTorch's defaults are a different layer")
    s = np.linspace(0, 300, 200)
    fig, ax = plt.subplots(figsize=(5, 3))
    for alpha, k, label in [(1e-4, 2, "paper: alpha=1e-4, k=2"), (2e-5, 2, "alpha/n, k=2"),
                            (2e-5, 1, "alpha/n, k=1 (torch default)")]:
        ax.plot(s, s / (k + alpha * 5 * s ** 2) ** 0.75, label=label)
    ax.set_xlabel("a (all 5 neighbours equal to a)")
    ax.set_ylabel("b")
    ax.legend(fontsize=7)
    ax.set_title("LRN response")
    C.savefig(fig, out, "04_lrn_alpha.png")


def part_gradcheck(rng):
    C.section("3. The backward pass, checked")
    layer = LocalResponseNorm(5, alpha=0.3, beta=0.75, k=2.0)  # big alpha: a real test
    errs = check_layer(layer, rng.standard_normal((2, 7, 3, 3)) * 2, rng)
    print("relative errors:", {k: f"{v:.1e}" for k, v in errs.items()})
    C.check(errs["dx"] < 1e-6, "LRN backward agrees with finite differences")


def main(argv=None):
    args = C.parse(argv, __doc__)
    rng = np.random.default_rng(0)
    part_formula(rng)
    part_trap(rng, args.out)
    part_gradcheck(rng)
    print("\nLesson 04 done: every self-check passed.")
    return 0


# %%
if __name__ == "__main__":
    raise SystemExit(main())
