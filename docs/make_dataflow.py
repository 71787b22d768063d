"""Draw docs/images/dataflow.png: one training step of AlexNet, as the README shows it.

    python docs/make_dataflow.py

Forward (black, left to right): a stored image, its augmented crop, the five convolution
blocks, the three fully connected layers, softmax and the loss. Backward (red, right to left):
each layer's ``backward`` turns the gradient of its output into the gradient of its input and
fills its ``grads``. Then the paper's SGD (blue) updates every weight in place.
"""

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "images", "dataflow.png")

# (title, details, where in the code, fill colour); sizes are the paper preset's
STAGES = [
    ("image", "stored 256 x 256\n(shorter side 256,\ncentre square)", "data/", "#eeeeee"),
    ("augment", "minus the mean image\nrandom 227 crop, flip\nPCA colour\n-> 3 x 227 x 227",
     "data/loader.py", "#eeeeee"),
    ("conv1", "11x11 /4, 96\nReLU, LRN, pool 3/2\n-> 96 x 27 x 27", "layers/", "#dbe9f6"),
    ("conv2", "5x5, 256, groups 2\nReLU, LRN, pool 3/2\n-> 256 x 13 x 13", "layers/", "#dbe9f6"),
    ("conv3-5", "3x3: 384, 384, 256\nReLU; pool 3/2\n-> 256 x 6 x 6", "layers/", "#dbe9f6"),
    ("fc6, fc7", "9216 -> 4096 -> 4096\nReLU, dropout 0.5", "layers/", "#dbe9f6"),
    ("fc8", "4096 -> 1000\nlogits", "layers/", "#dbe9f6"),
    ("loss", "softmax +\ncross-entropy", "layers/softmax_xent.py", "#fde2cf"),
]
LEARNED = range(2, 7)  # the stages with weights

W, H, GAP = 1.55, 1.25, 0.35  # box width, height and the space between boxes
Y = 2.2  # bottom of the boxes


def box(ax, x, y, w, h, title, details, where, colour):
    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.03,rounding_size=0.08",
                                facecolor=colour, edgecolor="#444444", linewidth=1.2))
    ax.text(x + w / 2, y + h - 0.2, title, ha="center", va="center", fontsize=11,
            fontweight="bold")
    ax.text(x + w / 2, y + h / 2 - 0.12, details, ha="center", va="center", fontsize=8,
            linespacing=1.3)
    ax.text(x + w / 2, y - 0.14, where, ha="center", va="center", fontsize=7.5,
            family="monospace", color="#555555")


def arrow(ax, start, end, colour, style="-|>", dashed=False, rad=0.0):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=14,
                                 color=colour, linewidth=1.6,
                                 linestyle="--" if dashed else "-",
                                 connectionstyle=f"arc3,rad={rad}"))


def main():
    fig, ax = plt.subplots(figsize=(15, 5.6))
    xs = [i * (W + GAP) for i in range(len(STAGES))]
    for x, stage in zip(xs, STAGES, strict=True):
        box(ax, x, Y, W, H, *stage)

    # forward, left to right
    for a, b in zip(xs[:-1], xs[1:], strict=True):
        arrow(ax, (a + W, Y + H * 0.62), (b, Y + H * 0.62), "black")
    ax.text(xs[2], Y + H + 0.42, "forward:  out, cache = layer.forward(x)   "
            "(model.forward, one layer after another)", fontsize=10)
    arrow(ax, (xs[2], Y + H + 0.25), (xs[-1] + W, Y + H + 0.25), "black")

    # backward, right to left, from dL/dlogits down to conv1
    for a, b in zip(xs[2:-1], xs[3:], strict=True):
        arrow(ax, (b, Y + H * 0.25), (a + W, Y + H * 0.25), "#c0392b")
    arrow(ax, (xs[-1] + W, Y - 0.4), (xs[2], Y - 0.4), "#c0392b")
    ax.text(xs[2] - 0.15, Y - 0.4, "backward:  dx = layer.backward(dout)\nfills layer.grads, "
            "last layer first\n(model.backward; conv1 stops there:\nno gradient for the image)",
            fontsize=9.5, color="#c0392b", ha="right", va="top", linespacing=1.35)

    # SGD: one update for every weight of the learned layers
    sx, sw = xs[2] + 0.6, xs[6] + W - xs[2] - 1.2
    ax.add_patch(FancyBboxPatch((sx, 0.15), sw, 0.85,
                                boxstyle="round,pad=0.03,rounding_size=0.08",
                                facecolor="#e3f1e0", edgecolor="#2e7d32", linewidth=1.2))
    ax.text(sx + sw / 2, 0.72, "SGD step (optim.py), the paper's form, for every W and b:",
            ha="center", va="center", fontsize=10, fontweight="bold", color="#2e7d32")
    ax.text(sx + sw / 2, 0.38, "v <- 0.9 v - 0.0005 lr w - lr dL/dw        w <- w + v",
            ha="center", va="center", fontsize=10, family="monospace")
    for i in LEARNED:
        arrow(ax, (xs[i] + W / 2, 1.0), (xs[i] + W / 2, Y - 0.25), "#2e7d32", dashed=True)
    ax.text(sx - 0.15, 0.58, "then the optimizer:\ngrads in, every weight\nupdated in place",
            fontsize=9.5, color="#2e7d32", ha="right", va="center", linespacing=1.35)

    ax.set_xlim(-0.15, xs[-1] + W + 0.15)
    ax.set_ylim(0, Y + H + 0.75)
    ax.axis("off")
    ax.set_title("One training step of AlexNet in alexnet-np (the paper preset's sizes)",
                 fontsize=13, loc="left")
    fig.tight_layout()
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    fig.savefig(OUT, dpi=110)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
