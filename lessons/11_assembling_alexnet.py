# %% [markdown]
# # Lesson 11 - Assembling AlexNet: shapes, 60,965,224 parameters, multiply-adds, memory
#
# Paper, sec. 3 and Fig. 2: five convolutional layers (two with LRN, three followed by
# overlapping max-pooling), three fully connected layers, a 1000-way softmax; conv2, conv4 and
# conv5 split in two groups. And a puzzle: the paper says 224x224 inputs, but 224 does not
# give conv1's 55x55 output.
#
# **Prerequisites:** lessons 02-06. **You will be able to:** follow an image's shape through
# the network, count its parameters by formula, and explain 224 vs 227.

# %%
import _common as C
import matplotlib.pyplot as plt

from alexnet_np.layers import Conv2d
from alexnet_np.layers.im2col import conv_output_size
from alexnet_np.model import build_model, get_config, spatial_sizes

QUICK = C.QUICK

# %% [markdown]
# ## 1. The 224/227 puzzle
#
# conv1 has 11x11 kernels at stride 4: `(224 - 11) / 4 + 1 = 54.25`. With 227 it is exactly
# 55; torchvision keeps 224 and pads conv1 by 2.

# %%
print(f"224: (224 - 11) / 4 + 1 = {(224 - 11) / 4 + 1}; floor gives "
      f"{conv_output_size(224, 11, 4, 0)}, not 55")
C.check(conv_output_size(227, 11, 4, 0) == 55, "227 gives 55 exactly")
C.check(conv_output_size(224, 11, 4, 2) == 55, "224 with padding 2 (torchvision) gives 55")


# %% [markdown]
# ## 2. Parameters, by formula
#
# A convolution has `F * (C / groups) * K * K + F` parameters, a linear layer
# `out * in + out`. Summed over the paper's eight layers, with the two-GPU groups:

# %%
def count_params(cfg):
    """Parameters by formula: conv F*(C/g)*K*K + F, linear out*in + out."""
    total, c_in = 0, cfg.in_channels
    for i, f in enumerate(cfg.channels):
        g = 2 if cfg.grouped and i in (1, 3, 4) else 1
        total += f * (c_in // g) * cfg.kernel_sizes[i] ** 2 + f
        c_in = f
    feats = c_in * spatial_sizes(cfg)["pool5"] ** 2
    for width in (*cfg.hidden, cfg.num_classes):
        total += feats * width + width
        feats = width
    return total


paper = get_config("paper")
n = count_params(paper)
print(f"paper: {n:,} parameters; spatial sizes {spatial_sizes(paper)}")
print(f"one tower (no groups): {count_params(get_config('paper', grouped=False)):,}")
C.check(n == 60_965_224, "60,965,224 parameters with the two-GPU grouping")
micro = build_model("micro", num_classes=10, fast=False)
C.check(count_params(micro.cfg) == micro.num_params(), "formula == the built micro model")

# %% [markdown]
# ## 3. The layer table: the classes you studied, shapes, multiply-adds, memory
#
# `build_model(..., fast=False)` assembles the plain NumPy layers of `alexnet_np/layers/`
# (the CLI's training uses their fast twins, which compute the same numbers).

# %%
model = micro if QUICK else build_model("paper", fast=False)
print(model.summary())
kinds = {type(layer).__name__ for _, layer in model.layers}
print("layer classes:", sorted(kinds))
C.check(all(type(layer).__module__.startswith("alexnet_np.layers.") for _, layer in model.layers)
        and isinstance(model.layers[0][1], Conv2d), "every layer is a reference class from layers/")
rows = model.summary_rows()
print(f"float32 weights: {4 * sum(r[3] for r in rows):,} bytes")
if not QUICK:
    C.check(sum(r[4] for r in rows) == 724_406_816, "about 724 M multiply-adds per image")
fig, ax = plt.subplots(figsize=(6.5, 3))
params = [r for r in rows if r[3]]
ax.bar([r[0] for r in params], [r[3] for r in params])
ax.set_yscale("log")
ax.set_ylabel("parameters (log scale)")
biggest = max(params, key=lambda r: r[3])
ax.set_title(f"parameters per layer ({model.cfg.name} preset); most in {biggest[0]}: "
             f"{biggest[3] / sum(r[3] for r in params):.0%}", fontsize=9)
C.show(fig, "11_params.png")

# %% [markdown]
# ## Exercises
#
# - Question `q11_conv4_params` in `lessons/exercises/answers.py`.
# - Which layer has the most multiply-adds, and which the most parameters? Why differ?
