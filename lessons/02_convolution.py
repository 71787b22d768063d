"""Lesson 02 - Convolution: from six loops, to im2col and one matrix product, to groups.

Paper, sec. 3 and Fig. 2: five convolutional layers; conv2, conv4 and conv5 are split in two
groups, the two-GPU split (sec. 3.2). Run: python lessons/02_convolution.py [--quick]
"""

# %%
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)) if "__file__" in globals()
                else os.path.abspath("lessons"))
import _common as C
import matplotlib.pyplot as plt
import numpy as np

from alexnet_np.layers import conv2d_forward, conv2d_forward_naive
from alexnet_np.layers.im2col import conv_output_size, im2col


# %% [markdown]
# ## 1. The definition, as loops
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


def part_loops(rng):
    C.section("1. Convolution as seven nested loops")
    x = rng.standard_normal((2, 3, 7, 7))
    W, b = rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    out = conv_loops(x, W, b, 2)
    print(f"x {x.shape} * W {W.shape}, stride 2 -> {out.shape}; "
          f"OH = (7 - 3) // 2 + 1 = {conv_output_size(7, 3, 2, 0)}")
    ref, _ = conv2d_forward(x, W, b, stride=2)
    C.check(np.allclose(out, ref), "the loops agree with alexnet_np's conv2d_forward")
    print("AlexNet conv1: (227 - 11) // 4 + 1 =", conv_output_size(227, 11, 4, 0))
    C.check(conv_output_size(227, 11, 4, 0) == 55, "227 -> 55 in conv1")


# %% [markdown]
# ## 2. im2col: every window becomes a row, the convolution a matrix product
def part_im2col(rng, out_dir):
    C.section("2. im2col: (N*OH*OW, C*K*K) @ (C*K*K, F)")
    x = rng.standard_normal((1, 3, 6, 6))
    W, b = rng.standard_normal((5, 3, 3, 3)), rng.standard_normal(5)
    cols = im2col(x, 3, 3, 1)  # (N, OH, OW, C, K, K), a strided view: no copy yet
    mat = cols.reshape(-1, 3 * 3 * 3)  # (N*OH*OW, C*K*K) = (16, 27)
    out = (mat @ W.reshape(5, -1).T + b).reshape(1, 4, 4, 5).transpose(0, 3, 1, 2)
    print(f"windows view {cols.shape} -> matrix {mat.shape}; weights as (F, C*K*K) "
          f"{W.reshape(5, -1).shape}")
    print("Each input pixel appears in up to K*K = 9 rows: im2col trades memory for one big "
          "BLAS call.")
    C.check(np.allclose(out, conv2d_forward_naive(x, W, b)[0]), "im2col + matmul == loops")
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.imshow(mat, cmap="coolwarm", aspect="auto")
    ax.set_xlabel("C*K*K (one window, flattened)")
    ax.set_ylabel("output position")
    ax.set_title("im2col matrix of a 6x6x3 input, 3x3 windows")
    C.savefig(fig, out_dir, "02_im2col.png")


# %% [markdown]
# ## 3. Groups: the two-GPU split
def part_groups(rng):
    C.section("3. groups=2: each half of the filters sees half of the channels")
    x = rng.standard_normal((2, 8, 5, 5))
    W, b = rng.standard_normal((6, 4, 3, 3)), rng.standard_normal(6)  # (F, C/groups, K, K)
    out, _ = conv2d_forward(x, W, b, padding=1, groups=2)
    top, _ = conv2d_forward(x[:, :4], W[:3], b[:3], padding=1)
    bottom, _ = conv2d_forward(x[:, 4:], W[3:], b[3:], padding=1)
    C.check(np.allclose(out, np.concatenate([top, bottom], axis=1)),
            "a grouped conv is two independent convs, concatenated along channels")
    full = 256 * 96 * 5 * 5 + 256
    grouped = 256 * 48 * 5 * 5 + 256
    print(f"conv2 parameters: one tower {full:,}, two groups {grouped:,} (half the weights,"
          " half the multiply-adds, no traffic between the GPUs)")
    C.check(grouped == 307_456, "conv2 has 307,456 parameters with groups=2")


def part_speed(rng, quick):
    C.section("4. How much faster is im2col?")
    import time
    size = 9 if quick else 15
    x = rng.standard_normal((2, 3, size, size))
    W, b = rng.standard_normal((8, 3, 3, 3)), rng.standard_normal(8)
    t0 = time.perf_counter()
    slow = conv_loops(x, W, b, 1)
    t1 = time.perf_counter()
    fast, _ = conv2d_forward(x, W, b)
    t2 = time.perf_counter()
    print(f"loops {1e3 * (t1 - t0):.1f} ms, im2col {1e3 * (t2 - t1):.2f} ms "
          f"({(t1 - t0) / max(t2 - t1, 1e-9):.0f}x; noisy on a shared machine)")
    C.check(np.allclose(slow, fast), "same numbers either way")


def main(argv=None):
    args = C.parse(argv, __doc__)
    rng = np.random.default_rng(0)
    part_loops(rng)
    part_im2col(rng, args.out)
    part_groups(rng)
    part_speed(rng, args.quick)
    print("\nLesson 02 done: every self-check passed.")
    return 0


# %%
if __name__ == "__main__":
    raise SystemExit(main())
