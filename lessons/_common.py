"""Shared helpers for the lessons: arguments, self-checks, figures.

Every lesson starts with::

    import _common as C          # (after putting this folder on sys.path)
    args = C.parse(argv, __doc__)

and ends its checks with ``C.check(condition, "what should hold")``.
"""

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if ROOT not in sys.path:  # so that `python lessons/NN_x.py` finds alexnet_np without install
    sys.path.insert(0, ROOT)
os.environ.setdefault("MPLBACKEND", "Agg")


class LessonCheckFailed(AssertionError):
    """A lesson's self-check did not hold: the code or the explanation is wrong."""


def check(cond, msg):
    """Raise LessonCheckFailed with ``msg`` unless ``cond``; print a tick when it holds."""
    if not cond:
        raise LessonCheckFailed(f"SELF-CHECK FAILED: {msg}")
    print(f"  [ok] {msg}")


def parse(argv, doc):
    """``--quick`` and ``--out DIR``; unknown arguments (a notebook kernel's) are ignored."""
    p = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small sizes: finishes in seconds")
    p.add_argument("--out", default=os.path.join(HERE, "figures"),
                   help="folder for the figures (default lessons/figures/)")
    args, _ = p.parse_known_args([] if argv is None and "ipykernel" in sys.modules else argv)
    os.makedirs(args.out, exist_ok=True)
    return args


def section(title):
    print(f"\n=== {title} " + "=" * max(0, 70 - len(title)))


def savefig(fig, out, name):
    """Save a matplotlib figure as ``out/name`` and say where it went."""
    import matplotlib.pyplot as plt
    path = os.path.join(out, name)
    fig.savefig(path, dpi=90, bbox_inches="tight")
    plt.close(fig)
    print(f"  figure: {path}")
    return path


def cache_dir(out):
    """A data cache folder inside the output folder (keeps the user's cache untouched)."""
    path = os.path.join(out, "data-cache")
    os.makedirs(path, exist_ok=True)
    return path
