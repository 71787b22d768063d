"""Steps `micro`'s default run spends at ln(10), per seed, and the loss curves behind them.

    python benchmarks/micro_plateau.py --seeds 0-9 --steps 80            # the table
    python benchmarks/micro_plateau.py --seeds 0-5 --steps 300 --plot docs/images/micro_plateau.png

Each run is `alexnet-np train --arch micro --seed S --max-steps STEPS --log-every 1` done in this
process (``alexnet_np.train.train`` with the settings the command builds: flips off on the
synthetic set, the preset's own training defaults), and ``plateau_steps`` over its logged
step losses: the first step at which the mean of the last 10 losses is below ln(10) - 0.05
(STEPS when that never happens). ``--recipe before`` runs the preset as it was before it was
widened: 4-8-8-8-8 / 16-16, dropout 0.5, lr 0.02 with a 10-step warm-up (docs/training.md,
"Why micro waited, and what changed"). About 2 s a run on two cores at 80 steps.
"""

import argparse
import json
import math
import os
import shutil
import sys
import tempfile

import numpy as np

from alexnet_np.tools.health import plateau_steps
from alexnet_np.train import preset_settings, train

BEFORE = {"model_overrides": {"channels": (4, 8, 8, 8, 8), "hidden": (16, 16), "dropout": 0.5},
          "lr": 0.02, "warmup_steps": 10}
LABELS = {"before": "before: 4-8-8-8-8 / 16-16, dropout 0.5, lr 0.02, warm-up 10",
          "now": "now: 8-16-16-16-32 / 32-32, no dropout, lr 0.04, no warm-up"}


def run(seed, steps, recipe="now", cache_dir=""):
    """The per-step training losses of one `train --arch micro` run of ``steps`` steps."""
    out = tempfile.mkdtemp(prefix="micro-plateau-")
    try:
        extra = BEFORE if recipe == "before" else {}
        s = preset_settings("micro", seed=seed, max_steps=steps, log_every=1, flip=False,
                            progress=False, out=out, cache_dir=cache_dir, **extra)
        train(s, log=lambda m: None)
        with open(os.path.join(out, "metrics.jsonl")) as f:
            rows = [json.loads(line) for line in f]
        return [r["loss"] for r in rows if r["type"] == "step"]
    finally:
        shutil.rmtree(out, ignore_errors=True)


def seed_list(text):
    """'0-5' or '0,3,7' -> a list of ints."""
    if "-" in text:
        a, b = text.split("-")
        return list(range(int(a), int(b) + 1))
    return [int(s) for s in text.split(",")]


def plot(curves, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.5))
    for (recipe, seed), losses in curves.items():
        mean = np.convolve(losses, np.ones(10) / 10, "valid")
        ax.plot(np.arange(10, len(losses) + 1), mean, lw=0.9,
                color="C0" if recipe == "before" else "C1",
                label=LABELS[recipe] if seed == min(s for r, s in curves if r == recipe) else None)
    ax.axhline(math.log(10), color="gray", ls=":", label="ln 10 (chance)")
    ax.axhline(math.log(10) - 0.05, color="gray", ls="--", lw=0.6, label="ln 10 - 0.05")
    ax.axvline(30, color="k", lw=0.5, label="step 30")
    ax.set(xlabel="step", ylabel="training loss, mean of the last 10 steps",
           title=f"micro's default run, one line a seed ({len(curves)} runs)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"figure written to {path}")


def main(argv=None):
    p = argparse.ArgumentParser(prog="python benchmarks/micro_plateau.py")
    p.add_argument("--seeds", default="0-5", help="e.g. 0-9 or 0,3,7 (default 0-5)")
    p.add_argument("--steps", type=int, default=80, help="steps a run (default 80)")
    p.add_argument("--recipe", choices=["now", "before", "both"], default="both")
    p.add_argument("--plot", default="", metavar="FILE.png", help="also draw the loss curves")
    p.add_argument("--cache-dir", default="", help="where the synthetic set is cached")
    args = p.parse_args(argv)
    try:
        seeds = seed_list(args.seeds)
    except ValueError:
        print(f"--seeds: expected e.g. 0-9 or 0,3,7, got {args.seeds!r}", file=sys.stderr)
        return 2
    recipes = ["before", "now"] if args.recipe == "both" else [args.recipe]
    curves = {}
    for recipe in recipes:
        found = []
        for seed in seeds:
            curves[recipe, seed] = run(seed, args.steps, recipe, args.cache_dir)
            found.append(plateau_steps(curves[recipe, seed]))
        met = sum(f <= 30 for f in found)
        print(f"{recipe}: steps at ln(10), seeds {args.seeds}: {', '.join(map(str, found))} "
              f"({met} of {len(found)} within 30; {args.steps} = never within {args.steps})",
              flush=True)
    if args.plot:
        plot(curves, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
