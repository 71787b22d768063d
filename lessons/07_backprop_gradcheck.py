"""Lesson 07 - Backpropagation and gradient checking: kinks, ties, float32, relative error.

Every backward pass in alexnet_np is checked by centred finite differences in float64
(CS231n's method). Run: python lessons/07_backprop_gradcheck.py [--quick]
"""

# %%
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)) if "__file__" in globals()
                else os.path.abspath("lessons"))
import _common as C
import matplotlib.pyplot as plt
import numpy as np

from alexnet_np.gradcheck import check_layer, check_model, numerical_gradient, rel_error
from alexnet_np.layers import ReLU
from alexnet_np.model import build_model


def part_eps(out):
    C.section("1. Centred differences: truncation vs rounding, float64 vs float32")
    f, df = np.sin, np.cos
    epss = np.logspace(-12, -1, 23)
    errs = {}
    for dt in (np.float64, np.float32):
        x = dt(0.7)
        errs[dt.__name__] = [abs((f(x + dt(e)) - f(x - dt(e))) / (2 * dt(e)) - df(0.7))
                             for e in epss]
    best64, best32 = min(errs["float64"]), min(errs["float32"])
    print(f"best error: float64 {best64:.1e}, float32 {best32:.1e}")
    C.check(best64 < 1e-9 and best32 > 1e-6, "float32 cannot check gradients to 1e-6")
    fig, ax = plt.subplots(figsize=(5, 3))
    for k, v in errs.items():
        ax.loglog(epss, np.maximum(v, 1e-17), label=k)
    ax.set_xlabel("eps")
    ax.set_ylabel("|error|")
    ax.legend()
    C.savefig(fig, out, "07_eps.png")


def part_kinks(rng):
    C.section("2. Kinks: a ReLU input within eps of 0")
    x = np.array([[1e-7, -0.5, 0.8]])
    layer = ReLU()
    layer.forward(x)
    dx = layer.backward(np.ones_like(x))
    num = numerical_gradient(lambda: layer.forward(x), x, np.ones_like(x))
    print(f"analytic {dx[0]}, numeric {num[0]}: at 1e-7 the difference straddles the kink")
    C.check(rel_error(dx, num) > 0.1, "finite differences lie at a kink")
    errs = check_layer(ReLU(), np.array([[0.3, -0.5, 0.8]]), rng)
    C.check(errs["dx"] < 1e-6, "away from the kink the check passes")


def part_model(rng, quick):
    C.section("3. The whole network: every parameter of the micro preset")
    model = build_model("micro", num_classes=10, seed=0, dtype=np.float64)
    x = rng.standard_normal((2, 3, 15, 15))
    errs = check_model(model, x, np.array([1, 7]), rng, sample=3 if quick else 20)
    worst = max(errs, key=errs.get)
    print(f"{len(errs)} parameter tensors; worst {worst}: {errs[worst]:.1e}")
    C.check(errs[worst] < 1e-5, "backprop through all 8 layers matches finite differences")


def main(argv=None):
    args = C.parse(argv, __doc__)
    rng = np.random.default_rng(0)
    part_eps(args.out)
    part_kinks(rng)
    part_model(rng, args.quick)
    print("\nLesson 07 done: every self-check passed.")
    return 0


# %%
if __name__ == "__main__":
    raise SystemExit(main())
