"""Lesson 09 - SGD with momentum and weight decay: the paper's form vs PyTorch's.

Paper, sec. 5: v <- 0.9 v - 0.0005 lr w - lr g ; w <- w + v.  PyTorch: v <- 0.9 v + g + wd w ;
w <- w - lr v. Equal at a constant rate; different right after a learning-rate drop.
Run: python lessons/09_sgd_paper_vs_pytorch.py [--quick]
"""

# %%
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)) if "__file__" in globals()
                else os.path.abspath("lessons"))
import _common as C
import matplotlib.pyplot as plt
import numpy as np

from alexnet_np.optim import SGD


def pytorch_sgd(w, grad_fn, lrs, m=0.9, wd=5e-4):
    v, path = np.zeros_like(w), []
    for lr in lrs:
        v = m * v + grad_fn(w) + wd * w
        w = w - lr * v
        path.append(w.copy())
    return np.array(path)


def paper_sgd(w, grad_fn, lrs):
    params = {"w": w.copy()}
    opt, path = SGD(params, lr=lrs[0]), []
    for lr in lrs:
        opt.lr = lr
        opt.step({"w": grad_fn(params["w"])})
        path.append(params["w"].copy())
    return np.array(path)


def main(argv=None):
    args = C.parse(argv, __doc__)
    C.section("1. One quadratic, two optimizers, a drop at step 50")
    scales = np.array([1.0, 0.05])

    def grad(w):
        return scales * w

    steps = 100
    lrs = [0.1] * 50 + [0.01] * (steps - 50)
    w0 = np.array([5.0, 5.0])
    a, b = paper_sgd(w0, grad, lrs), pytorch_sgd(w0, grad, lrs)
    before, after = np.abs(a[49] - b[49]).max(), np.abs(a[51] - b[51]).max()
    print(f"max |paper - pytorch| before the drop {before:.1e}, right after {after:.1e}")
    C.check(before < 1e-12, "identical while the learning rate is constant")
    C.check(after > 1e-3, "different after the drop: the paper's velocity keeps old steps")
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.plot(a[:, 1], label="paper")
    ax.plot(b[:, 1], "--", label="PyTorch")
    ax.axvline(50, color="gray", ls=":")
    ax.set_xlabel("step")
    ax.set_ylabel("w[1]")
    ax.legend()
    C.savefig(fig, args.out, "09_sgd.png")
    C.section("2. Weight decay is part of the update, not of the loss")
    params = {"w": np.array([1.0])}
    opt = SGD(params, lr=0.01)
    opt.step({"w": np.zeros(1)})
    print(f"zero gradient, w=1: w becomes {params['w'][0]:.8f} (1 - 0.0005 * 0.01)")
    C.check(np.isclose(params["w"][0], 1 - 5e-6), "decay alone shrinks w by wd * lr")
    print("\nLesson 09 done: every self-check passed.")
    return 0


# %%
if __name__ == "__main__":
    raise SystemExit(main())
