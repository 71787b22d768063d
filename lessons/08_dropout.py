"""Lesson 08 - Dropout: the paper's test-time 0.5 vs inverted dropout.

Paper, sec. 4.2: units of fc6 and fc7 are zeroed with probability 0.5 during training; at
test time all are used and multiplied by 0.5. Run: python lessons/08_dropout.py [--quick]
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
from alexnet_np.layers import Dropout


def part_expectation(rng, out, quick):
    C.section("1. Inverted dropout keeps the expectation")
    x = np.ones((1, 2000 if quick else 20000))
    layer = Dropout(0.5, rng=rng)
    outs = np.stack([layer.forward(x) for _ in range(50)])
    print(f"fraction dropped {np.mean(outs == 0):.3f}; mean output {outs.mean():.3f} (x = 1)")
    C.check(abs(np.mean(outs == 0) - 0.5) < 0.02, "about half the units are dropped")
    C.check(abs(outs.mean() - 1) < 0.02, "E[out] = x with the 1/(1-p) scale")
    paper_test = 0.5 * x  # the paper: no scale in training, times 0.5 at test time
    print("paper form: train out = x * mask, test out = 0.5 x; inverted: train out = 2 x * "
          "mask, test out = x. Same network up to a factor of 2 that the next layer absorbs.")
    C.check(np.allclose(layer.eval().forward(x), 2 * paper_test), "eval passes x unchanged")
    fig, ax = plt.subplots(figsize=(4, 2))
    ax.imshow(outs[:10, 0, :60], cmap="gray")
    ax.set_title("10 masks (rows), 60 units")
    C.savefig(fig, out, "08_masks.png")


def part_gradcheck(rng):
    C.section("2. Gradient check with the mask held fixed")
    layer = Dropout(0.5)

    def reseed():
        layer.rng = np.random.default_rng(123)

    errs = check_layer(layer.train(), rng.standard_normal((4, 10)), rng, before_forward=reseed)
    C.check(errs["dx"] < 1e-6, "dx = dout * mask / (1 - p)")


def main(argv=None):
    args = C.parse(argv, __doc__)
    rng = np.random.default_rng(0)
    part_expectation(rng, args.out, args.quick)
    part_gradcheck(rng)
    print("\nLesson 08 done: every self-check passed.")
    return 0


# %%
if __name__ == "__main__":
    raise SystemExit(main())
