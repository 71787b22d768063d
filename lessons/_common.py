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


def train_micro(out, steps, seed=0, batch=16, lr=0.02, **overrides):
    """Train the ``micro`` preset on a small synthetic set; return (model, losses, dataset).

    Used by the lessons that need a trained (or training) network in a few seconds.
    """
    import numpy as np

    from alexnet_np.data import BatchLoader, load_dataset
    from alexnet_np.model import build_model
    from alexnet_np.optim import SGD
    ds = load_dataset("synthetic", 18, synthetic_train=320, synthetic_val=80,
                      cache_dir=cache_dir(out), verbose=False)
    model = build_model("micro", num_classes=10, seed=seed, **overrides)
    opt = SGD(model.params, lr=lr)
    rng = np.random.default_rng(seed)
    losses = []
    while len(losses) < steps:
        loader = BatchLoader(ds, "train", batch, model.cfg.input_size, rng=rng,
                             scale=model.cfg.input_scale, prefetch=False)
        for x, y in loader:
            model.train()
            loss, _ = model.loss_and_backward(x, y)
            opt.step(model.grads)
            losses.append(float(loss))
            if len(losses) == steps:
                break
    return model, np.array(losses), ds
