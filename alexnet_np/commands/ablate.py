"""``alexnet-np ablate``: the paper's ablations (sec. 3, 4) at small scale, one command."""

import dataclasses
import os
import shlex
import sys
import time

from ..errors import UserError
from ..model import PRESETS
from ..tools.ablate import QUICK, QUICK_SEEDS, VARIANT_NAMES, StudySettings, run_seeds
from .common import nonnegative_int, positive_int

D = StudySettings()


def add_parser(sub):
    p = sub.add_parser(
        "ablate", help="train the baseline and one variant per ingredient; tabulate the effects",
        description="Train the paper's recipe and one variant per ingredient (tanh instead of "
                    "ReLU, no LRN, 2/2 pooling, no dropout, no flips/crops, no PCA colour, "
                    "groups off) with the same seed and budget, each in OUT/<variant>/. "
                    "Writes OUT/ablation.md and OUT/ablation.json: final validation top-1/top-5 "
                    "error, the change versus baseline, the paper's reported change, and the "
                    "epochs to 25% training error; OUT/ablation.png (each variant's curves); "
                    "then Fig. 1 the paper's way (a four-layer CNN, ReLU vs tanh) in "
                    "OUT/fig1.json and OUT/fig1.png. Run the same "
                    "command again to resume an interrupted study; finished variants are "
                    "skipped.")
    p.add_argument("--out", required=True, metavar="DIR", help="the study folder")
    p.add_argument("--data", default=D.data, help="'synthetic' (default), an image folder or "
                   "a CIFAR-10 folder")
    p.add_argument("--arch", default=D.arch, help=f"preset: {', '.join(PRESETS)} "
                   f"(default {D.arch})")
    p.add_argument("--epochs", type=positive_int, default=None,
                   help=f"epochs per variant (default {D.epochs})")
    p.add_argument("--batch-size", type=positive_int, default=D.batch_size)
    p.add_argument("--lr", type=float, default=D.lr, help=f"learning rate (default {D.lr})")
    p.add_argument("--seeds", type=nonnegative_int, nargs="+", default=None, metavar="SEED",
                   help="run the whole study once per seed (default: 0 1; with --quick: "
                        f"{' '.join(map(str, QUICK_SEEDS))}); with several, OUT/seed<N>/ per "
                        "seed and a side-by-side OUT/ablation.md")
    p.add_argument("--quick", action="store_true",
                   help="a short study (under 10 minutes on two cores): "
                        + ", ".join(f"{k.replace('synthetic_', '').replace('_', '-')} {v}"
                                    for k, v in QUICK.items())
                        + f", seeds {' '.join(map(str, QUICK_SEEDS))}; explicit flags still win")
    p.add_argument("--schedule", choices=["cosine", "step", "plateau"], default=D.schedule,
                   help="learning-rate schedule, the same for every variant (default cosine; "
                        "the paper's plateau drops at noise-driven epochs on small data)")
    p.add_argument("--train-size", type=positive_int, default=None,
                   help=f"synthetic data: training images (default {D.synthetic_train})")
    p.add_argument("--val-size", type=positive_int, default=None,
                   help=f"synthetic data: validation images (default {D.synthetic_val})")
    p.add_argument("--train-eval-size", type=positive_int, default=None,
                   help="training images whose error is measured after each epoch "
                        f"(default {D.train_eval_size})")
    p.add_argument("--variants", nargs="+", default=list(VARIANT_NAMES), metavar="NAME",
                   help=f"which variants (default all): {', '.join(VARIANT_NAMES)}")
    p.add_argument("--no-fig1", action="store_true",
                   help="skip Fig. 1 the paper's way (a four-layer CNN, ReLU vs tanh, each at "
                        "its fastest learning rate, epochs to 25%% training error)")
    p.add_argument("--cache-dir", default="", help="where decoded-image caches are kept")
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--progress", action="store_true",
                   help="show the training loop's progress bars too")
    p.set_defaults(func=run)


def run(args):
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise UserError(f"--out {args.out} is a file; choose a folder for the study")
    seeds = args.seeds or (QUICK_SEEDS if args.quick else [0, 1])
    study = StudySettings(
        out=args.out, data=args.data, arch=args.arch, epochs=args.epochs,
        batch_size=args.batch_size, lr=args.lr, seed=seeds[0], fig1=not args.no_fig1,
        synthetic_train=args.train_size, synthetic_val=args.val_size,
        cache_dir=args.cache_dir, train_eval_size=args.train_eval_size,
        variants=tuple(args.variants), device=args.device, progress=args.progress,
        schedule=args.schedule)
    # the budget: an explicit flag, else the --quick value, else the full study's default
    budget = {"epochs": args.epochs, "synthetic_train": args.train_size,
              "synthetic_val": args.val_size, "train_eval_size": args.train_eval_size,
              "fig1_images": None}
    study = dataclasses.replace(study, **{
        k: v if v is not None else (QUICK[k] if args.quick else getattr(D, k))
        for k, v in budget.items()})
    command = "alexnet-np " + " ".join(shlex.quote(a) for a in sys.argv[1:]) \
        if sys.argv[1:2] == ["ablate"] else ""
    t0 = time.perf_counter()
    rows_by_seed = run_seeds(study, seeds, log=lambda m: print(m, flush=True),
                             command=command)
    rows = rows_by_seed[-1]
    if len(rows_by_seed) > 1:
        print(f"\nlast seed ({seeds[-1]}); all seeds side by side in {args.out}/ablation.md")
    print()
    print(f"{'variant':<14}{'val top-1':>10}{'val top-5':>10}{'d top-1':>9}{'d top-5':>9}"
          f"{'train top-1':>13}  paper")
    for r in rows:
        base = r is rows[0]
        print(f"{r['variant']:<14}{r['val_top1_error']:>10.2%}{r['val_top5_error']:>10.2%}"
              f"{'-' if base else format(r['top1_change'], '+.1f'):>9}"
              f"{'-' if base else format(r['top5_change'], '+.1f'):>9}"
              f"{format(r['train_top1_error'], '.2%') if r['train_top1_error'] is not None else '-':>13}"  # noqa: E501
              f"  {r['paper']}")
    print(f"\nwrote {args.out}/ablation.md and ablation.json ({time.perf_counter() - t0:.0f} s)")
    return 0
