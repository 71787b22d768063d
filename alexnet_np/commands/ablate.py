"""``alexnet-np ablate``: the paper's ablations (sec. 3, 4) at small scale, one command."""

import os
import shlex
import sys
import time

from ..errors import UserError
from ..model import PRESETS
from ..tools.ablate import VARIANT_NAMES, StudySettings, run_study
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
                    "epochs to 25% training error (ReLU vs tanh, Fig. 1). Run the same "
                    "command again to resume an interrupted study; finished variants are "
                    "skipped.")
    p.add_argument("--out", required=True, metavar="DIR", help="the study folder")
    p.add_argument("--data", default=D.data, help="'synthetic' (default), an image folder or "
                   "a CIFAR-10 folder")
    p.add_argument("--arch", default=D.arch, help=f"preset: {', '.join(PRESETS)} "
                   f"(default {D.arch})")
    p.add_argument("--epochs", type=positive_int, default=D.epochs,
                   help=f"epochs per variant (default {D.epochs})")
    p.add_argument("--batch-size", type=positive_int, default=D.batch_size)
    p.add_argument("--lr", type=float, default=D.lr, help=f"learning rate (default {D.lr})")
    p.add_argument("--seed", type=nonnegative_int, default=D.seed)
    p.add_argument("--schedule", choices=["cosine", "step", "plateau"], default=D.schedule,
                   help="learning-rate schedule, the same for every variant (default cosine; "
                        "the paper's plateau drops at noise-driven epochs on small data)")
    p.add_argument("--train-size", type=positive_int, default=D.synthetic_train,
                   help=f"synthetic data: training images (default {D.synthetic_train})")
    p.add_argument("--val-size", type=positive_int, default=D.synthetic_val,
                   help=f"synthetic data: validation images (default {D.synthetic_val})")
    p.add_argument("--train-eval-size", type=positive_int, default=D.train_eval_size,
                   help="training images whose error is measured after each epoch "
                        f"(default {D.train_eval_size})")
    p.add_argument("--variants", nargs="+", default=list(VARIANT_NAMES), metavar="NAME",
                   help=f"which variants (default all): {', '.join(VARIANT_NAMES)}")
    p.add_argument("--cache-dir", default="", help="where decoded-image caches are kept")
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--progress", action="store_true",
                   help="show the training loop's progress bars too")
    p.set_defaults(func=run)


def run(args):
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise UserError(f"--out {args.out} is a file; choose a folder for the study")
    study = StudySettings(
        out=args.out, data=args.data, arch=args.arch, epochs=args.epochs,
        batch_size=args.batch_size, lr=args.lr, seed=args.seed,
        synthetic_train=args.train_size, synthetic_val=args.val_size,
        cache_dir=args.cache_dir, train_eval_size=args.train_eval_size,
        variants=tuple(args.variants), device=args.device, progress=args.progress,
        schedule=args.schedule)
    command = "alexnet-np " + " ".join(shlex.quote(a) for a in sys.argv[1:]) \
        if sys.argv[1:2] == ["ablate"] else ""
    t0 = time.perf_counter()
    rows = run_study(study, log=lambda m: print(m, flush=True), command=command)
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
