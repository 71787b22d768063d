"""Lesson 03 - ReLU vs tanh: saturation, and a small version of the paper's Fig. 1.

Paper, sec. 3.1: a four-layer CNN with ReLUs reached 25% training error on CIFAR-10 six times
faster than the same network with tanh, because ReLUs do not saturate. Here: the mechanism
(derivatives, gradients reaching the first layer) and a four-layer net trained both ways.
Run: python lessons/03_relu_vs_tanh.py [--quick]
"""

# %%
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)) if "__file__" in globals()
                else os.path.abspath("lessons"))
import _common as C
import matplotlib.pyplot as plt
import numpy as np

from alexnet_np.layers import Linear, ReLU, SoftmaxCrossEntropy, Tanh
from alexnet_np.optim import SGD


def part_saturation(out):
    C.section("1. Derivatives: tanh saturates, ReLU does not")
    z = np.linspace(-5, 5, 201)
    d_tanh, d_relu = 1 - np.tanh(z) ** 2, (z > 0).astype(float)
    print(f"tanh'(3) = {1 - np.tanh(3) ** 2:.4f}, relu'(3) = 1")
    C.check(1 - np.tanh(3) ** 2 < 0.01, "tanh passes < 1% of the gradient at z = 3")
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.plot(z, np.tanh(z), label="tanh")
    ax.plot(z, np.maximum(z, 0), label="relu")
    ax.plot(z, d_tanh, "--", label="tanh'")
    ax.plot(z, d_relu, "--", label="relu'")
    ax.set_ylim(-1.5, 3)
    ax.legend(fontsize=7)
    C.savefig(fig, out, "03_activations.png")


def make_net(act, rng, widths=(20, 64, 64, 64, 4)):
    layers = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
        layers.append(Linear(a, b, rng=rng, dtype=np.float64, std=np.sqrt(2 / a)))
        if i < len(widths) - 2:
            layers.append(act())
    return layers


def run(layers, x, y, steps, lr=0.05):
    """Full-batch SGD (the paper's form); returns losses, errors, first-layer grad norms."""
    params = {f"{i}.{k}": v for i, lay in enumerate(layers) for k, v in lay.params.items()}
    opt, loss_layer = SGD(params, lr=lr, weight_decay=0.0), SoftmaxCrossEntropy()
    losses, errors, g1 = [], [], []
    for _ in range(steps):
        h = x
        for lay in layers:
            h = lay.forward(h)
        losses.append(float(loss_layer.forward(h, y)))
        errors.append(float(np.mean(h.argmax(1) != y)))
        d = loss_layer.backward()
        for lay in reversed(layers):
            d = lay.backward(d)
        g1.append(float(np.abs(layers[0].grads["W"]).mean()))
        opt.step({f"{i}.{k}": v for i, lay in enumerate(layers) for k, v in lay.grads.items()})
    return np.array(losses), np.array(errors), np.array(g1)


def part_training(out, quick):
    C.section("2. Four layers, trained with ReLU and with tanh")
    r = np.random.default_rng(100)
    x = r.standard_normal((256, 20)) * 4  # large inputs, like the paper's raw pixels
    teacher = np.maximum(x @ r.standard_normal((20, 32)), 0) @ r.standard_normal((32, 4))
    y = teacher.argmax(1)  # 4 classes a small net can learn
    steps = 40 if quick else 150
    fig, ax = plt.subplots(figsize=(5, 3))
    result = {}
    for name, act in [("relu", ReLU), ("tanh", Tanh)]:
        losses, errors, g1 = run(make_net(act, np.random.default_rng(0)), x, y, steps)
        hit = int(np.argmax(errors <= 0.25)) if np.any(errors <= 0.25) else None
        result[name] = hit, losses, g1
        print(f"{name}: loss {losses[0]:.2f} -> {losses[-1]:.3f}, training error "
              f"{errors[-1]:.0%}, steps to 25% error: {hit}, first-layer |dW| at step 0: "
              f"{g1[0]:.2e}")
        ax.plot(errors, label=name)
        C.check(np.isfinite(losses).all() and losses[-1] < losses[0], f"{name} trains")
    ax.axhline(0.25, color="gray", ls=":")
    ax.set_xlabel("step")
    ax.set_ylabel("training error")
    ax.legend()
    C.savefig(fig, out, "03_relu_vs_tanh.png")
    print("Honest note: in this toy the tanh net reaches 25% about as fast or faster, because"
          "\nits units are not deep in saturation. The paper's 6x gap is for a 4-layer CNN on "
          "CIFAR-10\nwith its init and learning rates; run the cifar preset with "
          "--activation tanh to explore it.")


def main(argv=None):
    args = C.parse(argv, __doc__)
    part_saturation(args.out)
    part_training(args.out, args.quick)
    print("\nLesson 03 done: every self-check passed.")
    return 0


# %%
if __name__ == "__main__":
    raise SystemExit(main())
