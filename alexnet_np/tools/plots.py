"""Figures written next to a run: training curves (``curves.png``)."""

import os

import matplotlib

matplotlib.use("Agg")  # files only, never a window
import matplotlib.pyplot as plt  # noqa: E402

from ..checkpoint import read_metrics  # noqa: E402


def plot_curves(run_dir, out=None):
    """Loss per logged step and validation top-1/top-5 error per epoch, from metrics.jsonl.

    Returns the path of the PNG written (``RUN_DIR/curves.png`` unless ``out`` is given).
    """
    records = read_metrics(run_dir)
    steps = [r for r in records if r.get("type") == "step" and isinstance(r.get("loss"), float)]
    epochs = [r for r in records if r.get("type") == "epoch"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    if steps:
        ax1.plot([r["step"] for r in steps], [r["loss"] for r in steps], lw=1,
                 label="training loss (logged steps)")
    if epochs:
        ax1.plot([r["step"] for r in epochs], [r["val_loss"] for r in epochs], "o-",
                 label="validation loss")
        ep = [r["epoch"] for r in epochs]
        ax2.plot(ep, [100 * r["val_top1_error"] for r in epochs], "o-", label="top-1 error")
        ax2.plot(ep, [100 * r["val_top5_error"] for r in epochs], "s-", label="top-5 error")
    ax1.set(xlabel="step", ylabel="cross-entropy", title="loss")
    ax2.set(xlabel="epoch", ylabel="validation error (%)", title="validation error",
            ylim=(0, 100))
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend()
    fig.suptitle(os.path.basename(os.path.abspath(run_dir)))
    fig.tight_layout()
    out = out or os.path.join(run_dir, "curves.png")
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out
