"""Lesson 06 - Fully connected layers, softmax and cross-entropy.

Paper, sec. 3.5 / Fig. 2: fc6 (9216 -> 4096), fc7 (4096 -> 4096), fc8 (4096 -> 1000) and a
1000-way softmax; training maximises the log-probability of the correct label.
Run: python lessons/06_fc_softmax.py [--quick]
"""

# %%
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)) if "__file__" in globals()
                else os.path.abspath("lessons"))
import _common as C
import matplotlib.pyplot as plt
import numpy as np

from alexnet_np.gradcheck import check_layer, check_loss
from alexnet_np.layers import Linear, SoftmaxCrossEntropy


def part_linear(rng):
    C.section("1. out = x @ W.T + b, and its three gradients")
    layer = Linear(6, 4, rng=rng, dtype=np.float64, std=1.0)
    x = rng.standard_normal((3, 6))
    print(f"x {x.shape} @ W.T {layer.params['W'].T.shape} + b -> {layer.forward(x).shape}")
    errs = check_layer(layer, x, rng)
    print("gradient check:", {k: f"{v:.1e}" for k, v in errs.items()})
    C.check(max(errs.values()) < 1e-6, "dx = dout @ W, dW = dout.T @ x, db = dout.sum(0)")
    fc6 = 9216 * 4096 + 4096
    print(f"fc6 alone has {fc6:,} parameters: {fc6 / 60_965_224:.0%} of AlexNet")
    C.check(fc6 == 37_752_832, "fc6 holds 37,752,832 parameters")


def part_softmax(rng, out):
    C.section("2. Softmax, the max shift, and the loss at chance")
    z = np.array([[1000.0, 999.0, -1000.0]])
    with np.errstate(over="ignore", invalid="ignore"):
        naive = np.exp(z) / np.exp(z).sum()
    loss = SoftmaxCrossEntropy()
    value = loss.forward(z, np.array([1]))
    print(f"naive softmax of {z[0].tolist()}: {naive[0]} (exp(1000) = inf)")
    print(f"with the max shift: loss {value:.4f} = log(1 + e) - 0 ... finite")
    C.check(np.isnan(naive).any() and np.isfinite(value), "the shift prevents overflow")
    c = 1000
    zero = loss.forward(np.zeros((4, c)), np.arange(4))
    print(f"zero logits, {c} classes: loss {zero:.4f} = ln({c}) = {np.log(c):.4f}")
    C.check(abs(zero - np.log(c)) < 1e-6, "a network at chance has loss ln(K)")
    errs = check_loss(SoftmaxCrossEntropy(), rng.standard_normal((5, 10)),
                      rng.integers(0, 10, 5))
    C.check(errs["dlogits"] < 1e-6, "dlogits = (p - onehot(y)) / N, checked numerically")
    t = np.linspace(-6, 6, 100)
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot(t, np.log1p(np.exp(-t)))
    ax.set_xlabel("correct logit minus the other (2 classes)")
    ax.set_ylabel("cross-entropy")
    C.savefig(fig, out, "06_xent.png")


def main(argv=None):
    args = C.parse(argv, __doc__)
    rng = np.random.default_rng(0)
    part_linear(rng)
    part_softmax(rng, args.out)
    print("\nLesson 06 done: every self-check passed.")
    return 0


# %%
if __name__ == "__main__":
    raise SystemExit(main())
