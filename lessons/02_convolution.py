# %% [markdown]
# # Lesson 02 - Convolution: forward, backward, im2col, groups
#
# Paper, sec. 3 and Fig. 2: five convolutional layers; conv2, conv4 and conv5 are split in two
# groups, the two-GPU split (sec. 3.2). This lesson writes the forward pass as loops, **derives
# the backward pass** (first in 1-D, then in 2-D, then with stride, padding and groups), and
# then shows how `alexnet_np/layers/conv2d.py` computes all of it with im2col and matrix
# products.
#
# **Prerequisites:** lesson 00 (chain rule, gradients of a value used several times add up),
# lesson 01 (NCHW). **You will be able to:** state `dW` as the correlation of the input with
# `dout` and `dx` as the full convolution of `dout` with the flipped kernel; compute one entry
# of each by hand; explain what stride, padding and groups change.

# %%
import time

import _common as C
import matplotlib.pyplot as plt
import numpy as np

from alexnet_np.layers import (
    conv2d_backward,
    conv2d_forward,
    conv2d_forward_naive,
    zeropad2d_backward,
    zeropad2d_forward,
)
from alexnet_np.layers.im2col import col2im, conv_output_size, im2col

QUICK = C.QUICK
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. The definition, as loops
#
# Deep-learning "convolution" is a cross-correlation: filter `f` slides over the input and at
# each position takes a dot product with the window under it:
#
#     out[n, f, i, j] = b[f] + sum_{c, u, v} W[f, c, u, v] * x[n, c, i*s + u, j*s + v]
#
# With an input of size `H`, a kernel `K`, stride `s` and padding `p` the output has
# `OH = (H + 2p - K) // s + 1` rows. AlexNet's conv1: `(227 - 11) // 4 + 1 = 55`.

# %%
def conv_loops(x, W, b, stride):
    """out[n, f, i, j] = b[f] + sum_{c,u,v} W[f, c, u, v] * x[n, c, i*s+u, j*s+v]."""
    n, c, h, w = x.shape
    f, _, k, _ = W.shape
    oh, ow = (h - k) // stride + 1, (w - k) // stride + 1
    out = np.zeros((n, f, oh, ow))
    for i_n in range(n):
        for i_f in range(f):
            for i in range(oh):
                for j in range(ow):
                    for cc in range(c):
                        for u in range(k):
                            for v in range(k):
                                out[i_n, i_f, i, j] += (W[i_f, cc, u, v]
                                                        * x[i_n, cc, i * stride + u,
                                                            j * stride + v])
            out[i_n, i_f] += b[i_f]
    return out


x = rng.standard_normal((2, 3, 7, 7))
W, b = rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
out = conv_loops(x, W, b, 2)
print(f"x {x.shape} * W {W.shape}, stride 2 -> {out.shape}")
C.check(np.allclose(out, conv2d_forward(x, W, b, stride=2)[0]),
        "the seven loops agree with alexnet_np's conv2d_forward")
C.check(conv_output_size(227, 11, 4, 0) == 55, "AlexNet's conv1 maps 227 to 55")

# %% [markdown]
# ## 2. The backward pass in 1-D, by hand
#
# One channel, one filter, stride 1: `out[i] = b + sum_u w[u] * x[i + u]`. Take
# `x = [1, 2, 0, 3]` and `w = [2, -1]`; then `out = [2*1 - 2, 2*2 - 0, 2*0 - 3] = [0, 4, -3]`.
# Suppose the layer above sends back `dout = [1, 2, -1]`.
#
# **dw.** `w[u]` is used in *every* output `out[i]`, multiplied by `x[i + u]` (multiply gate:
# the gradient is the other factor). Its uses add up (lesson 00):
#
#     dw[u] = sum_i dout[i] * x[i + u]
#     dw[0] = 1*1 + 2*2 + (-1)*0 = 5        dw[1] = 1*2 + 2*0 + (-1)*3 = -1
#
# That is `dout` slid along `x`: **dw is the (valid) correlation of x with dout**.
#
# **dx.** `x[y]` appears in every output `i` with `i + u = y` for some tap `u`, multiplied by
# `w[u]`:
#
#     dx[y] = sum_{u} dout[y - u] * w[u]          (terms with y - u outside dout are 0)
#     dx = [1*2, 1*(-1) + 2*2, 2*(-1) + (-1)*2, (-1)*(-1)] = [2, 3, -4, 1]
#
# Read it as: pad `dout` with `K - 1 = 1` zero on each side, `[0, 1, 2, -1, 0]`, flip the
# kernel to `[-1, 2]`, and slide: `[0*(-1) + 1*2, 1*(-1) + 2*2, ...]`. **dx is the full
# convolution of dout with w** (a true convolution flips the kernel). **db** = sum of `dout`
# = 2.

# %%
x1, w1, dout1 = np.array([1.0, 2, 0, 3]), np.array([2.0, -1]), np.array([1.0, 2, -1])
out1, cache = conv2d_forward(x1.reshape(1, 1, 1, 4), w1.reshape(1, 1, 1, 2), np.zeros(1))
dx1, dw1, db1 = conv2d_backward(dout1.reshape(1, 1, 1, 3), cache)
print(f"out {out1.ravel()}, dw {dw1.ravel()}, dx {dx1.ravel()}, db {db1}")
C.check(np.allclose(out1.ravel(), [0, 4, -3]), "out = [0, 4, -3]")
C.check(np.allclose(dw1.ravel(), [5, -1]) and np.allclose(dw1.ravel(),
        np.correlate(x1, dout1, "valid")), "dw = [5, -1] = correlate(x, dout), by hand and code")
C.check(np.allclose(dx1.ravel(), [2, 3, -4, 1]) and np.allclose(dx1.ravel(),
        np.convolve(dout1, w1, "full")), "dx = [2, 3, -4, 1] = full convolution of dout with w")
C.check(db1[0] == 2, "db = sum(dout) = 2")

# %% [markdown]
# ## 3. Two dimensions
#
# The same two sentences hold in 2-D, summed over images `n` and, for `dx`, over filters `f`:
#
#     dW[f, c, u, v] = sum_{n, i, j} dout[n, f, i, j] * x[n, c, i + u, j + v]
#     dx[n, c, y, z] = sum_{f, u, v} dout[n, f, y - u, z - v] * W[f, c, u, v]
#
# A hand example with one channel: `x` is 3x3, `W` 2x2, `dout` 2x2 with only two non-zero
# entries, so each sum has at most two terms:
#
#     x = [[1, 2, 0],    W = [[1,  2],    dout = [[1, 0],
#          [0, 1, 3],         [0, -1]]            [0, 2]]
#          [2, 0, 1]]
#
# `dW[u, v] = 1 * x[u, v] + 2 * x[1 + u, 1 + v]`, so `dW = [[1 + 2*1, 2 + 2*3], [0 + 2*0,
# 1 + 2*1]] = [[3, 8], [0, 3]]`. For `dx`, each `dout` entry stamps a copy of `W`, scaled,
# at its window: `1 * W` at the top left and `2 * W` at the bottom right; where the stamps
# overlap (the centre) they add: `dx = [[1, 2, 0], [0, -1 + 2, 4], [0, 0, -2]]`.

# %%
x2 = np.array([[1.0, 2, 0], [0, 1, 3], [2, 0, 1]])
W2 = np.array([[1.0, 2], [0, -1]])
dout2 = np.array([[1.0, 0], [0, 2]])
_, cache = conv2d_forward(x2[None, None], W2[None, None], np.zeros(1))
dx2, dW2, _ = conv2d_backward(dout2[None, None], cache)
print("dW =\n", dW2[0, 0], "\ndx =\n", dx2[0, 0])
C.check(np.allclose(dW2[0, 0], [[3, 8], [0, 3]]), "dW = [[3, 8], [0, 3]] as computed by hand")
C.check(np.allclose(dx2[0, 0], [[1, 2, 0], [0, 1, 4], [0, 0, -2]]),
        "dx = [[1, 2, 0], [0, 1, 4], [0, 0, -2]]: overlapping stamps add")


# %%
def correlate2d_valid(a, k):
    """sum_{u,v} k[u, v] * a[i + u, j + v]: the forward pass of one channel and one filter."""
    oh, ow = a.shape[0] - k.shape[0] + 1, a.shape[1] - k.shape[1] + 1
    return np.array([[np.sum(a[i:i + k.shape[0], j:j + k.shape[1]] * k) for j in range(ow)]
                     for i in range(oh)])


def backward_as_correlations(x, W, dout):
    """dW and dx of a stride-1 convolution, written as the two correlations derived above."""
    n, c, h, w = x.shape
    f, _, k, _ = W.shape
    dW = np.zeros_like(W)
    dx = np.zeros_like(x)
    for i_n in range(n):
        for i_f in range(f):
            for cc in range(c):
                dW[i_f, cc] += correlate2d_valid(x[i_n, cc], dout[i_n, i_f])
                padded = np.pad(dout[i_n, i_f], k - 1)  # full: K-1 zeros on every side
                dx[i_n, cc] += correlate2d_valid(padded, W[i_f, cc, ::-1, ::-1])  # flipped
    return dx, dW


x = rng.standard_normal((2, 3, 6, 6))
W, b = rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
out, cache = conv2d_forward(x, W, b)
dout = rng.standard_normal(out.shape)
dx_ref, dW_ref, db_ref = conv2d_backward(dout, cache)
dx_c, dW_c = backward_as_correlations(x, W, dout)
C.check(np.allclose(dW_c, dW_ref), "dW = correlation of x with dout, for every (f, c)")
C.check(np.allclose(dx_c, dx_ref), "dx = full correlation of dout with the flipped kernel")

# %% [markdown]
# ## 4. Stride, padding, groups
#
# **Stride s.** Output `i` reads `x[i*s + u]`. The derivation is unchanged, only the index:
# `dW[u] = sum_i dout[i] * x[i*s + u]`, and `x[y]` receives `dout[i] * W[u]` for every
# `i*s + u = y`. Equivalently: spread `dout` out by inserting `s - 1` zeros between its
# entries (*dilate* it) and use the stride-1 formulas. Inputs that no window reads (at the
# right edge, when `(H - K)` is not a multiple of `s`) get gradient 0.
#
# **Padding p.** The layer convolves the padded input `xp`; differentiate with respect to `xp`
# as before, then drop the border: the gradient that lands on padding zeros belongs to no
# input (`dx = dxp[p:H+p, p:W+p]`, with explicit ends: `dxp[p:-p]` is empty when `p = 0`).
# The layer `ZeroPad2d` (the 224-input variant of lesson 11 pads only the bottom and right) is
# this step alone: each output entry is an input entry or a constant zero, so its backward pass
# crops `dout`. By hand: a 2x2 input padded by one row below and one column to the right, with
# `dout = [[0, 1, 2], [3, 4, 5], [6, 7, 8]]`, gets `dx = [[0, 1], [3, 4]]`.
#
# **Groups g.** The channels and filters are cut into `g` blocks and block `k` of filters only
# sees block `k` of channels: the layer is `g` independent convolutions side by side, so the
# backward pass is too. A filter's `dW` only involves its own group's channels, and `dx` of a
# channel only receives from its own group's filters.

# %%
def dilate(d, s):
    """Insert s - 1 zeros between the entries of the last two axes."""
    n, f, oh, ow = d.shape
    out = np.zeros((n, f, (oh - 1) * s + 1, (ow - 1) * s + 1))
    out[:, :, ::s, ::s] = d
    return out


x = rng.standard_normal((1, 2, 8, 8))
W, b = rng.standard_normal((3, 2, 3, 3)), np.zeros(3)
out, cache = conv2d_forward(x, W, b, stride=2)  # (1, 3, 3, 3): the last input row is unread
dout = rng.standard_normal(out.shape)
dx_s, dW_s, _ = conv2d_backward(dout, cache)
used = x[:, :, :7, :7]  # rows and columns 0..6 are read by some window
dx_d, dW_d = backward_as_correlations(used, W, dilate(dout, 2))
C.check(np.allclose(dW_s, dW_d), "stride 2: dW = the stride-1 formula with dout dilated")
C.check(np.allclose(dx_s[:, :, :7, :7], dx_d) and np.all(dx_s[:, :, 7] == 0),
        "stride 2: dx from the dilated dout; the row no window reads gets 0")

out, cache = conv2d_forward(x, W, b, padding=1)
dout = rng.standard_normal(out.shape)
dx_p, dW_p, _ = conv2d_backward(dout, cache)
dxp, dWp = backward_as_correlations(np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1))), W, dout)
C.check(np.allclose(dW_p, dWp) and np.allclose(dx_p, dxp[:, :, 1:9, 1:9]),
        "padding 1: differentiate w.r.t. the padded input, then cut the border off")
_, cache = zeropad2d_forward(np.zeros((1, 1, 2, 2)), (0, 1, 0, 1))  # (top, bottom, left, right)
dx_pad = zeropad2d_backward(np.arange(9.0).reshape(1, 1, 3, 3), cache)
C.check(dx_pad[0, 0].tolist() == [[0, 1], [3, 4]], "ZeroPad2d's backward crops: [[0, 1], [3, 4]]")

x = rng.standard_normal((2, 8, 5, 5))
W, b = rng.standard_normal((6, 4, 3, 3)), rng.standard_normal(6)  # (F, C/groups, K, K)
out, cache = conv2d_forward(x, W, b, padding=1, groups=2)
dout = rng.standard_normal(out.shape)
dx_g, dW_g, _ = conv2d_backward(dout, cache)
halves = []
for g in range(2):
    _, cache_g = conv2d_forward(x[:, 4 * g:4 * g + 4], W[3 * g:3 * g + 3], b[3 * g:3 * g + 3],
                                padding=1)
    halves.append(conv2d_backward(dout[:, 3 * g:3 * g + 3], cache_g))
C.check(np.allclose(out, np.concatenate([conv2d_forward(x[:, 4 * g:4 * g + 4],
        W[3 * g:3 * g + 3], b[3 * g:3 * g + 3], padding=1)[0] for g in range(2)], axis=1)),
        "a grouped conv is two independent convs, concatenated along channels")
C.check(np.allclose(dx_g, np.concatenate([h[0] for h in halves], axis=1))
        and np.allclose(dW_g, np.concatenate([h[1] for h in halves])),
        "and so is its backward pass: dx and dW per group")
print(f"conv2 weights with two groups: {256 * 48 * 5 * 5 + 256:,} instead of "
      f"{256 * 96 * 5 * 5 + 256:,} (half the weights, half the multiply-adds)")

# %% [markdown]
# ## 5. im2col: every window becomes a row, the convolution a matrix product
#
# Seven loops in Python are slow. `im2col` lays every window out as one row of a matrix
# (`(N*OH*OW, C*K*K)`); the forward pass becomes one product with the filters as columns:
# `out = cols @ W.reshape(F, -1).T`. Below, a 4x4 input numbered 0..15 and its 2x2 windows:
# each input value appears in up to `K*K = 4` rows (the repeated numbers), which is the memory
# im2col trades for one big BLAS call.

# %%
x = np.arange(16, dtype=float).reshape(1, 1, 4, 4)
cols = im2col(x, 2, 2, 1)  # (N, OH, OW, C, K, K) = (1, 3, 3, 1, 2, 2), a strided view
mat = cols.reshape(9, 4)  # (N*OH*OW, C*K*K)
print("input:\n", x[0, 0].astype(int), "\nim2col matrix (one window per row):\n",
      mat.astype(int))
C.check(mat[0].tolist() == [0, 1, 4, 5] and mat[4].tolist() == [5, 6, 9, 10],
        "row (i, j) holds the window whose top-left corner is x[i, j]")
fig, axes = plt.subplots(1, 2, figsize=(7, 3.6), gridspec_kw={"width_ratios": [4, 4]})
for ax, arr, title in [(axes[0], x[0, 0], "input x (4x4)"),
                       (axes[1], mat, "im2col: 9 windows x 4 taps")]:
    ax.imshow(arr, cmap="viridis", aspect="auto")
    for (r, c), val in np.ndenumerate(arr):
        ax.text(c, r, int(val), ha="center", va="center", color="w", fontsize=9)
    ax.set_title(title, fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])
axes[1].set_ylabel("output position (i, j)")
axes[1].set_xlabel("tap (u, v)")
C.show(fig, "02_im2col.png")

# %% [markdown]
# The backward pass is two more products and `col2im`, the adjoint of im2col: `dW = dout_rows.T
# @ cols` (the correlation of section 3, all at once) and `dcols = dout_rows @ W_mat`, whose
# rows `col2im` adds back into the windows they came from. Adding back a matrix of ones counts
# how many windows read each input pixel: the overlap that makes `dx` a sum.

# %%
xr = rng.standard_normal((2, 3, 6, 6))
Wr = rng.standard_normal((4, 3, 3, 3))
out, cache = conv2d_forward(xr, Wr, np.zeros(4))
dout = rng.standard_normal(out.shape)  # (N, F, OH, OW) = (2, 4, 4, 4)
cols_r = im2col(xr, 3, 3, 1).reshape(2 * 4 * 4, 3 * 3 * 3)  # (N*OH*OW, C*K*K)
dout_rows = dout.transpose(0, 2, 3, 1).reshape(2 * 4 * 4, 4)  # (N*OH*OW, F)
dW_mat = (dout_rows.T @ cols_r).reshape(Wr.shape)  # (F, C*K*K) -> (F, C, K, K)
dcols = (dout_rows @ Wr.reshape(4, -1)).reshape(2, 4, 4, 3, 3, 3)  # (N, OH, OW, C, K, K)
dx_mat = col2im(dcols, xr.shape, 1)
dx_ref, dW_ref, _ = conv2d_backward(dout, cache)
C.check(np.allclose(dW_mat, dW_ref) and np.allclose(dx_mat, dx_ref),
        "dW = dout_rows.T @ cols and dx = col2im(dout_rows @ W_mat): the same gradients")
counts = col2im(np.ones_like(cols), x.shape, 1)[0, 0]
print("windows that read each pixel (3x3 kernel, stride 1, 6x6 input):")
counts6 = col2im(np.ones(im2col(np.zeros((1, 1, 6, 6)), 3, 3, 1).shape), (1, 1, 6, 6), 1)
print(counts6[0, 0].astype(int))
C.check(counts.tolist() == [[1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2], [1, 2, 2, 1]],
        "col2im of ones counts the windows covering each pixel")
fig, ax = plt.subplots(figsize=(3.4, 3))
ax.imshow(counts6[0, 0], cmap="magma", vmin=0)
for (r, c), val in np.ndenumerate(counts6[0, 0]):
    ax.text(c, r, int(val), ha="center", va="center", fontsize=9,
            color="k" if val > 0.6 * counts6.max() else "w")
ax.set_title("col2im(ones): windows per pixel", fontsize=9)
ax.axis("off")
C.show(fig, "02_col2im_counts.png")

# %% [markdown]
# ## 6. How much faster is im2col?
#
# Timings on a shared machine are noisy; the point is the order of magnitude.

# %%
size = 9 if QUICK else 15
x = rng.standard_normal((2, 3, size, size))
W, b = rng.standard_normal((8, 3, 3, 3)), rng.standard_normal(8)
t0 = time.perf_counter()
slow = conv_loops(x, W, b, 1)
t1 = time.perf_counter()
fast, _ = conv2d_forward(x, W, b)
t2 = time.perf_counter()
print(f"loops {1e3 * (t1 - t0):.1f} ms, im2col {1e3 * (t2 - t1):.2f} ms")
C.check(np.allclose(slow, fast) and np.allclose(fast, conv2d_forward_naive(x, W, b)[0]),
        "loops, the naive oracle and im2col give the same numbers")

# %% [markdown]
# ## Exercises
#
# - `lessons/exercises/conv2d_loops.py`: write the forward pass with loops, with stride,
#   padding and groups (graded by `alexnet-np grade`).
# - `lessons/exercises/col2im.py`: write `col2im`, the adjoint of `im2col`.
# - `lessons/exercises/conv2d.py`: write `Conv2d.backward` from sections 2-4.
# - Questions `q02_dw`, `q02_dx`, `q02_stride_dx` in `lessons/exercises/answers.py`.
# - Why is `dx` of conv1 never computed in training? (Look for `needs_input_grad`.)
