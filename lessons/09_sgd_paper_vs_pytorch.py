# %% [markdown]
# # Lesson 09 - SGD with momentum and weight decay: the paper's form vs PyTorch's
#
# Paper, sec. 5:
#
#     v <- 0.9 v - 0.0005 * lr * w - lr * g          w <- w + v
#
# PyTorch's `SGD(momentum=0.9, weight_decay=5e-4)`:
#
#     v <- 0.9 v + g + 0.0005 w                       w <- w - lr * v
#
# **You will be able to:** show the two are the same while the learning rate is constant, and
# see where they part: right after a learning-rate drop, the paper's velocity still carries
# steps taken at the old rate, PyTorch's is rescaled at once.

# %%
import _common as C
import matplotlib.pyplot as plt
import numpy as np

from alexnet_np.optim import SGD

QUICK = C.QUICK


# %% [markdown]
# ## 1. One quadratic, two optimizers, a drop at step 50
#
# Unroll both with the same constant `lr`: PyTorch's `lr * v` obeys exactly the paper's
# recursion for `v`, so the weights agree. When `lr` changes, PyTorch multiplies the whole
# accumulated velocity by the new rate; the paper's velocity keeps the old, larger steps and
# decays them by 0.9 per step.

# %%
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


scales = np.array([1.0, 0.05])
steps = 70 if QUICK else 100
lrs = [0.1] * 50 + [0.01] * (steps - 50)
w0 = np.array([5.0, 5.0])
a = paper_sgd(w0, lambda w: scales * w, lrs)
b = pytorch_sgd(w0, lambda w: scales * w, lrs)
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
ax.set_title("lr 0.1 -> 0.01 at step 50", fontsize=9)
ax.legend()
C.show(fig, "09_sgd.png")

# %% [markdown]
# ## 2. Weight decay is part of the update, not of the loss
#
# With a zero gradient, one step of the paper's rule moves `w` by `-0.0005 * lr * w`.

# %%
params = {"w": np.array([1.0])}
opt = SGD(params, lr=0.01)
opt.step({"w": np.zeros(1)})
print(f"zero gradient, w = 1: w becomes {params['w'][0]:.8f} (1 - 0.0005 * 0.01)")
C.check(np.isclose(params["w"][0], 1 - 5e-6), "decay alone shrinks w by wd * lr")

# %% [markdown]
# ## Exercises
#
# - Question `q09_velocity` in `lessons/exercises/answers.py`: two steps of the paper's rule.
# - How would you convert a paper-form velocity into PyTorch's at a learning-rate drop, so
#   that both continue identically?
