"""Command-line switches shared by several subcommands (the model's faithfulness switches)."""

import argparse
import os

from ..errors import UserError


def add_model_switches(p):
    g = p.add_argument_group("model switches (ablations; defaults follow the paper)")
    g.add_argument("--dropout", type=float, default=None, metavar="P",
                   help="dropout probability on fc6/fc7 outputs (paper 0.5; 0 = off)")
    g.add_argument("--no-lrn", action="store_true", help="remove local response normalization")
    g.add_argument("--lrn-alpha-over-n", action="store_true",
                   help="divide LRN alpha by n, as cuda-convnet2/Caffe/PyTorch do")
    g.add_argument("--pool", choices=["3/2", "2/2"], default=None,
                   help="max-pool window/stride: 3/2 overlapping (paper) or 2/2")
    g.add_argument("--activation", choices=["relu", "tanh"], default=None,
                   help="non-linearity (paper: relu)")
    g.add_argument("--no-groups", action="store_true",
                   help="one tower: conv2/4/5 see all input channels (no two-GPU split)")
    g.add_argument("--init", choices=["paper", "kaiming"], default=None,
                   help="weight initialisation (paper: N(0, 0.01), some biases 1)")
    g.add_argument("--no-calibrate", action="store_true",
                   help="plain Kaiming draws: skip the small presets' calibration of the "
                        "initial weights on a batch of training images (docs/training.md)")
    g.add_argument("--input-variant", choices=["227", "224-ceil", "224-pad2"], default=None,
                   help="how the 224 vs 227 puzzle is solved (paper preset)")


def model_overrides(args):
    """The model-configuration fields the switches in ``args`` ask for."""
    o = {}
    if getattr(args, "dropout", None) is not None:
        o["dropout"] = args.dropout
    if getattr(args, "no_lrn", False):
        o["lrn"] = False
    if getattr(args, "lrn_alpha_over_n", False):
        o["lrn_alpha_over_n"] = True
    if getattr(args, "pool", None):
        k, s = args.pool.split("/")
        o["pool_kernel"], o["pool_stride"] = int(k), int(s)
    if getattr(args, "activation", None):
        o["activation"] = args.activation
    if getattr(args, "no_groups", False):
        o["grouped"] = False
    if getattr(args, "init", None):
        o["init"] = args.init
    if getattr(args, "no_calibrate", False):
        o["init_calibrate"] = False
    if getattr(args, "input_variant", None):
        o["input_variant"] = args.input_variant
    return o


def positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def nonnegative_int(text):
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or a positive integer, got {text}")
    return value


def only_given(p):
    """Make ``p`` leave options the user did not give out of the parsed namespace (their
    defaults stay in the help texts): a command can then tell "--lr 0.02" from nothing."""
    for action in p._actions:
        if action.dest != "help":
            action.default = argparse.SUPPRESS


def check_output_file(out, flag="--out"):
    """UserError unless ``out`` can be created: its folder exists and it is not a folder.
    Checked before any work, so a typo does not cost the run."""
    folder = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(folder):
        raise UserError(f"cannot write {flag} {out}: folder {folder} does not exist; create it "
                        "first or choose another path")
    if os.path.isdir(out):
        raise UserError(f"{flag} {out} is a folder; pass a file name such as "
                        f"{os.path.join(out, 'figure.png')}")
