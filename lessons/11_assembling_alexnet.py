"""Lesson 11 - Assembling AlexNet: shapes, 60,965,224 parameters, multiply-adds, memory, and
the 224/227 puzzle (paper sec. 3, Fig. 2). Run: python lessons/11_assembling_alexnet.py
"""

# %%
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)) if "__file__" in globals()
                else os.path.abspath("lessons"))
import _common as C
import matplotlib.pyplot as plt

from alexnet_np.layers.im2col import conv_output_size
from alexnet_np.model import build_model, get_config, spatial_sizes


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


def main(argv=None):
    args = C.parse(argv, __doc__)
    C.section("1. The 224/227 puzzle")
    print(f"224: (224 - 11) / 4 + 1 = {(224 - 11) / 4 + 1} (not an integer); floor gives "
          f"{conv_output_size(224, 11, 4, 0)}, not 55")
    C.check(conv_output_size(227, 11, 4, 0) == 55, "227 gives 55 exactly")
    C.check(conv_output_size(224, 11, 4, 2) == 55, "224 with padding 2 (torchvision) gives 55")
    C.section("2. Parameters, by formula")
    paper = get_config("paper")
    n = count_params(paper)
    print(f"paper: {n:,} parameters; spatial sizes {spatial_sizes(paper)}")
    C.check(n == 60_965_224, "60,965,224 parameters with the two-GPU grouping")
    print(f"one tower (no groups): {count_params(get_config('paper', grouped=False)):,}")
    micro = build_model("micro", num_classes=10)
    C.check(count_params(micro.cfg) == micro.num_params(), "formula == built micro model")
    C.section("3. Layer table, multiply-adds and memory")
    model = micro if args.quick else build_model("paper")
    print(model.summary())
    rows = model.summary_rows()
    print(f"float32 weights: {4 * sum(r[3] for r in rows) / 2**20:.1f} MiB")
    if not args.quick:
        C.check(sum(r[4] for r in rows) == 724_406_816, "about 724 M multiply-adds per image")
    else:
        print("(--quick: the micro preset; run without --quick to build the paper network)")
    fig, ax = plt.subplots(figsize=(6, 3))
    params = [r for r in rows if r[3]]
    ax.bar([r[0] for r in params], [r[3] for r in params])
    ax.set_yscale("log")
    ax.set_title(f"parameters per layer ({model.cfg.name})")
    C.savefig(fig, args.out, "11_params.png")
    print("\nLesson 11 done: every self-check passed.")
    return 0


# %%
if __name__ == "__main__":
    raise SystemExit(main())
