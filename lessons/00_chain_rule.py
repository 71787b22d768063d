# %% [markdown]
# # Lesson 00 - The chain rule, by hand
#
# Every backward pass in this course is the chain rule applied to one small formula. Before any
# layer, we build a computational graph of five scalar operations by hand, derive each local
# derivative from its definition, multiply them along the graph, and confirm every number by
# *nudging* the input and watching the output move (Karpathy's micrograd method).
#
# **You will be able to:** compute a gradient through a graph by hand; say why gradients of a
# value used twice add up; recognise the add / multiply / max / ReLU / tanh gates that every
# later lesson is made of; go from scalars to arrays (`dx = dout * f'(x)`).
#
# Notation: we write `dX` for `dL/dX`, the derivative of the final loss `L` with respect to
# `X`, as the code does (`dout`, `dx`, `dW`).

# %%
import _common as C
import matplotlib.pyplot as plt
import numpy as np

from alexnet_np.layers import relu_backward, relu_forward, tanh_backward, tanh_forward

QUICK = C.QUICK

# %% [markdown]
# ## 1. A graph of five operations
#
# One neuron and a squared error, with numbers small enough to do in your head:
#
#     a = w * x        x = 2, w = -3      ->  a = -6
#     z = a + b        b = 7              ->  z = 1
#     h = relu(z)      relu(z) = max(0, z) ->  h = 1
#     L = (h - t)^2    t = 3              ->  L = 4
#
# The forward pass computes the values in this order and keeps them (the *cache*).

# %%
x, w, b, t = 2.0, -3.0, 7.0, 3.0


def forward(x, w, b, t):
    a = w * x
    z = a + b
    h = max(0.0, z)
    L = (h - t) ** 2
    return a, z, h, L


a, z, h, L = forward(x, w, b, t)
print(f"a = {a}, z = {z}, h = {h}, L = {L}")
C.check((a, z, h, L) == (-6.0, 1.0, 1.0, 4.0), "the forward values are -6, 1, 1, 4")

# %% [markdown]
# ## 2. Local derivatives, from the definitions
#
# Each operation only needs to know its own derivative:
#
# - `L = (h - t)^2`: the power rule gives `dL/dh = 2 (h - t)`.
# - `h = max(0, z)`: the slope is 1 where `z > 0` and 0 where `z < 0`, so `dh/dz = [z > 0]`.
#   (At exactly `z = 0` there is a kink; we take 0, like PyTorch.)
# - `z = a + b`: `dz/da = 1` and `dz/db = 1`. **Add distributes** the gradient unchanged.
# - `a = w * x`: `da/dw = x` and `da/dx = w`. **Multiply swaps**: each input's gradient is the
#   other input.
#
# The chain rule: the derivative of `L` with respect to anything is the product of the local
# derivatives along the path from `L` back to it. Walking backwards:
#
#     dL = 1
#     dh = dL * 2 (h - t)  = 2 * (1 - 3)  = -4
#     dz = dh * [z > 0]    = -4 * 1       = -4
#     da = dz * 1 = -4           db = dz * 1 = -4
#     dw = da * x = -4 * 2 = -8  dx = da * w = -4 * (-3) = 12
#
# Work it out on paper first, then run the cell.

# %%
dL = 1.0
dh = dL * 2 * (h - t)
dz = dh * (1.0 if z > 0 else 0.0)
da, db = dz * 1.0, dz * 1.0
dw, dx = da * x, da * w
hand = {"x": dx, "w": dw, "b": db, "t": -dh}  # dL/dt = -2 (h - t) = -dh
print("by the chain rule:", hand)
C.check(hand == {"x": 12.0, "w": -8.0, "b": -4.0, "t": 4.0},
        "dx = 12, dw = -8, db = -4, dt = 4, as worked out on paper")

# %% [markdown]
# ## 3. Nudge each input and watch L move
#
# A derivative is the rate at which the output changes when one input moves. Move `w` by a tiny
# `eps` up and down and take the slope of the line between the two results (the *centred
# difference*; lesson 07 explains why centred and why float64):
#
#     dL/dw ~ (L(w + eps) - L(w - eps)) / (2 eps)
#
# If the hand derivation were wrong anywhere on the path, the two would disagree.

# %%
def loss_of(name, value):
    inputs = {"x": x, "w": w, "b": b, "t": t}
    inputs[name] = value
    return forward(**inputs)[-1]


eps = 1e-6
nudged = {}
for name, value in {"x": x, "w": w, "b": b, "t": t}.items():
    nudged[name] = (loss_of(name, value + eps) - loss_of(name, value - eps)) / (2 * eps)
    print(f"  dL/d{name}: chain rule {hand[name]:6.2f}   nudging {nudged[name]:9.5f}")
C.check(all(abs(nudged[k] - hand[k]) < 1e-6 for k in hand),
        "every hand-derived gradient equals the slope measured by nudging")

# %%
ws = np.linspace(-5, -1, 41 if QUICK else 201)
fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(ws, [loss_of("w", v) for v in ws], label="L as a function of w")
ax.plot(ws, L + dw * (ws - w), "--", label=f"tangent at w = {w:g}, slope dL/dw = {dw:g}")
ax.plot([w], [L], "ko")
ax.set_ylim(-1, 12)
ax.set_xlabel("w")
ax.set_ylabel("L")
ax.legend(fontsize=7)
ax.set_title("the gradient is the slope of L along w")
C.show(fig, "00_slope.png")

# %% [markdown]
# The whole graph, values on top (forward) and gradients below (backward):

# %%
nodes = [("x", x, dx, 0, 1), ("w", w, dw, 0, 0), ("a = w*x", a, da, 1, 0.5),
         ("b", b, db, 1, -0.5), ("z = a+b", z, dz, 2, 0), ("h = relu(z)", h, dh, 3, 0),
         ("L = (h-t)^2", L, dL, 4, 0)]
edges = [(0, 2), (1, 2), (2, 4), (3, 4), (4, 5), (5, 6)]
fig, ax = plt.subplots(figsize=(8, 2.6))
for i, j in edges:
    ax.annotate("", xy=(nodes[j][3] - 0.28, nodes[j][4]), xytext=(nodes[i][3] + 0.28,
                nodes[i][4]), arrowprops={"arrowstyle": "->", "color": "gray"})
for name, val, grad, px, py in nodes:
    ax.text(px, py, f"{name}\n{val:g}\ngrad {grad:g}", ha="center", va="center", fontsize=8,
            bbox={"boxstyle": "round", "fc": "#eef", "ec": "#446"})
ax.set_xlim(-0.5, 4.6)
ax.set_ylim(-1, 1.5)
ax.axis("off")
ax.set_title("forward values and backward gradients (dL/d node)")
C.show(fig, "00_graph.png")

# %% [markdown]
# ## 4. tanh, derived
#
# The paper compares ReLU with `tanh` (lesson 03). Its local derivative, from
# `tanh(z) = (e^z - e^-z) / (e^z + e^-z)` and the quotient rule:
#
#     d tanh/dz = [(e^z + e^-z)^2 - (e^z - e^-z)^2] / (e^z + e^-z)^2 = 1 - tanh(z)^2
#
# A value you can check by hand: at `z = ln 2`, `e^z = 2` and `e^-z = 1/2`, so
# `tanh = 1.5 / 2.5 = 0.6` and the derivative is `1 - 0.36 = 0.64`. Note what the formula
# needs: only the *output* `tanh(z)`, which is why the layer caches its output.

# %%
z0 = np.log(2.0)
slope = (np.tanh(z0 + eps) - np.tanh(z0 - eps)) / (2 * eps)
print(f"tanh(ln 2) = {np.tanh(z0):.6f}; 1 - tanh^2 = {1 - np.tanh(z0) ** 2:.6f}; "
      f"nudging {slope:.6f}")
C.check(abs(np.tanh(z0) - 0.6) < 1e-12 and abs(slope - 0.64) < 1e-8,
        "tanh(ln 2) = 0.6 and its derivative is 0.64")

# %% [markdown]
# ## 5. A value used twice: its gradients add
#
# In `f = x*y + x` the input `x` reaches `f` along two paths. The multivariable chain rule
# sums over paths: `df/dx = y * 1 + 1 = y + 1`. At `x = 3, y = 4` that is 5. This one rule is
# behind three results later in the course: a convolution weight is used at every position,
# so `dW` **sums** over positions and images (lesson 02); a max-pool input can win several
# overlapping windows, so its gradient is the **sum** (lesson 05); a bias is added to every
# image of a batch, so `db` **sums** over the batch (lesson 06). In code, this is `+=`.

# %%
def f(x, y):
    return x * y + x


gx = (f(3 + eps, 4) - f(3 - eps, 4)) / (2 * eps)
print(f"df/dx at (3, 4): by nudging {gx:.6f}, by summing the two paths 4 + 1 = 5")
C.check(abs(gx - 5) < 1e-6, "the gradients of the two uses of x add up to 5")

# %% [markdown]
# ## 6. The gates, and a max gate
#
# Three patterns cover most of a network (CS231n's names): **add** passes `dout` to every
# input; **multiply** sends `dout` times the *other* input; **max** routes `dout` to the input
# that won and gives the others 0 (relu is a max with 0; max-pooling is a max over a window).

# %%
p, q = 5.0, 2.0
slope_p = (max(p + eps, q) - max(p - eps, q)) / (2 * eps)
slope_q = (max(p, q + eps) - max(p, q - eps)) / (2 * eps)
print(f"max(5, 2): d/dp = {slope_p:.3f} (the winner), d/dq = {slope_q:.3f} (the loser)")
C.check(abs(slope_p - 1) < 1e-9 and slope_q == 0, "max routes the gradient to the winner")

# %% [markdown]
# ## 7. From scalars to arrays: elementwise layers
#
# ReLU and tanh act on each entry separately: `out[i] = g(x[i])`. Output `i` depends only on
# input `i`, so the Jacobian `d out[i] / d x[m]` is **diagonal**, with `g'(x[i])` on the
# diagonal. The backward pass never builds it: the chain rule sums
# `dx[m] = sum_i dout[i] * d out[i]/d x[m]`, and only `i = m` survives:
#
#     dx = dout * g'(x)         relu: dout * (x > 0)      tanh: dout * (1 - out^2)
#
# Below, the full Jacobian measured by nudging each entry, and the one-line formula, on
# `x = [-1, 0.5, ln 2, 2]` with `dout = [1, 2, 3, 4]`. By hand: relu gives `[0, 2, 3, 4]`;
# tanh gives `3 * 0.64 = 1.92` in the third place.

# %%
xv = np.array([-1.0, 0.5, np.log(2.0), 2.0])
dout = np.array([1.0, 2.0, 3.0, 4.0])
jac = np.stack([(np.maximum(xv + eps * e, 0) - np.maximum(xv - eps * e, 0)) / (2 * eps)
                for e in np.eye(4)], axis=1)  # jac[i, m] = d out[i] / d x[m]
print("ReLU Jacobian by nudging:\n", jac)
_, cache = relu_forward(xv)
dx_relu = relu_backward(dout, cache)
_, cache = tanh_forward(xv)
dx_tanh = tanh_backward(dout, cache)
print("relu_backward:", dx_relu, "  tanh_backward:", dx_tanh.round(4))
C.check(np.allclose(jac, np.diag(np.diag(jac))), "the Jacobian of an elementwise op is diagonal")
C.check(np.allclose(dout @ jac, dx_relu) and np.allclose(dx_relu, [0, 2, 3, 4]),
        "relu_backward = dout times the Jacobian = [0, 2, 3, 4]")
C.check(abs(dx_tanh[2] - 1.92) < 1e-12, "tanh_backward gives 3 * 0.64 = 1.92 at ln 2")

# %% [markdown]
# ## The recipe for every layer
#
# Each layer in `alexnet_np/layers/` has `forward(x) -> (out, cache)` and
# `backward(dout, cache) -> dx` (and `dW`, `db` for layers with parameters). `dout` has the
# shape of `out`, `dx` the shape of `x`. To derive a backward pass: write one output entry as a
# formula of the inputs, take the local derivative, and sum over every output entry that the
# input reaches. Lessons 02, 04, 05, 06 and 08 do this for convolution, LRN, max-pooling,
# linear + softmax + flatten, and dropout; lesson 07 checks all of them numerically.
#
# ## Exercises
#
# - Questions `q00_dw`, `q00_dt` and `q00_tanh` in `lessons/exercises/answers.py`: redo
#   sections 2 and 4 with other numbers and let `alexnet-np grade` check your answers.
# - Change `b` to `5` so that `z < 0`. Predict every gradient before running the cells.
