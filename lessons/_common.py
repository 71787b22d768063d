"""Shared helpers for the lessons: the QUICK switch, self-checks, figures.

A lesson is a jupytext "percent" file that runs as a script and as a notebook. It starts with::

    import _common as C          # found as a sibling: a script's folder and a notebook's
                                 # working directory (lessons/) are both on sys.path
    QUICK = C.QUICK              # small sizes: `--quick` on the command line, or the
                                 # environment variable ALEXNET_NP_QUICK=1 (notebook runs)

checks what it teaches with ``C.check(condition, "what should hold")`` and shows each figure
with ``C.show(fig, "NN_name.png")``: inline in a notebook, saved to ``C.OUT`` (``--out DIR``,
the environment variable ALEXNET_NP_LESSON_OUT, or lessons/figures/) either way.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if ROOT not in sys.path:  # so that `python lessons/NN_x.py` finds alexnet_np without install
    sys.path.insert(0, ROOT)
os.environ.setdefault("MPLBACKEND", "Agg")


def _flag_value(name):
    """The value after ``name`` on the command line (``--out DIR``), or None."""
    argv = sys.argv[1:]
    return argv[argv.index(name) + 1] if name in argv[:-1] else None


IN_NOTEBOOK = "ipykernel" in sys.modules
QUICK = os.environ.get("ALEXNET_NP_QUICK", "") == "1" or (
    not IN_NOTEBOOK and "--quick" in sys.argv[1:])
OUT = (os.environ.get("ALEXNET_NP_LESSON_OUT") or (None if IN_NOTEBOOK else _flag_value("--out"))
       or os.path.join(HERE, "figures"))
os.makedirs(OUT, exist_ok=True)


def show(fig, name):
    """Save ``fig`` as ``OUT/name``; in a notebook also display it inline.

    Returns None, so that a cell ending in ``C.show(...)`` prints no ``Out[]`` line; as a
    script it prints where the figure went.
    """
    import matplotlib.pyplot as plt
    path = os.path.join(OUT, name)
    fig.savefig(path, dpi=90, bbox_inches="tight")
    if IN_NOTEBOOK:
        from IPython.display import display
        display(fig)
    else:
        print(f"  figure: {path}")
    plt.close(fig)


class LessonCheckFailed(AssertionError):
    """A lesson's self-check did not hold: the code or the explanation is wrong."""


def check(cond, msg):
    """Raise LessonCheckFailed with ``msg`` unless ``cond``; print a tick when it holds."""
    if not cond:
        raise LessonCheckFailed(f"SELF-CHECK FAILED: {msg}")
    print(f"  [ok] {msg}")


def cache_dir(out):
    """A data cache folder inside the output folder (keeps the user's cache untouched)."""
    path = os.path.join(out, "data-cache")
    os.makedirs(path, exist_ok=True)
    return path
