"""``alexnet-np train``: train a preset on the synthetic default data or a real dataset."""

import os
import sys

from ..model import PRESETS
from ..train import TrainSettings, train
from .common import add_model_switches, model_overrides, positive_int

D = TrainSettings()


def add_parser(sub):
    p = sub.add_parser(
        "train", help="train AlexNet (default: the 'cifar' preset on the embedded synthetic data)",
        description="Train with the paper's SGD (momentum 0.9, weight decay 0.0005, learning "
                    "rate divided by 10 on a validation plateau). Writes RUN_DIR/last.npz "
                    "(every epoch), best.npz (best validation top-1), metrics.jsonl and "
                    "curves.png. Ctrl-C stops cleanly; --resume continues.")
    p.add_argument("--data", default=D.data,
                   help="'synthetic' (default: generated, nothing to download), an image "
                        "folder with train/<class>/ and val/<class>/, or a CIFAR-10 python "
                        "folder")
    p.add_argument("--arch", default=D.arch, help=f"preset: {', '.join(PRESETS)} "
                   f"(default {D.arch})")
    p.add_argument("--epochs", type=positive_int, default=D.epochs,
                   help=f"epochs (default {D.epochs}; the paper ran about 90)")
    p.add_argument("--batch-size", type=positive_int, default=D.batch_size,
                   help=f"mini-batch size (default {D.batch_size}; the paper 128)")
    p.add_argument("--lr", type=float, default=D.lr, help=f"learning rate (default {D.lr})")
    p.add_argument("--momentum", type=float, default=D.momentum)
    p.add_argument("--weight-decay", type=float, default=D.weight_decay)
    p.add_argument("--schedule", choices=["plateau", "step", "cosine"], default=D.schedule,
                   help=f"learning-rate schedule per epoch (default {D.schedule}; the paper: "
                        "plateau, divide by 10 when validation error stops improving)")
    p.add_argument("--warmup", type=int, default=D.warmup_steps, metavar="STEPS",
                   help=f"linear learning-rate warm-up over the first STEPS steps (default "
                        f"{D.warmup_steps}; 0 = none, as in the paper)")
    p.add_argument("--seed", type=int, default=D.seed, help="seed for init, data order, "
                   "augmentation and dropout")
    p.add_argument("--device", choices=["cpu", "cuda"], default=D.device)
    p.add_argument("--out", default=None, metavar="RUN_DIR",
                   help="run folder (default runs/<arch>-<data name>)")
    p.add_argument("--resume", action="store_true", help="continue RUN_DIR/last.npz")
    p.add_argument("--max-steps", type=int, default=0, help="stop after N steps in all")
    p.add_argument("--log-every", type=positive_int, default=D.log_every,
                   help="steps between metrics.jsonl lines")
    p.add_argument("--flip", dest="flip", action="store_true", default=None,
                   help="random horizontal reflections (sec. 4.1); default on for photos "
                        "(image folders, CIFAR-10), off for the synthetic set")
    p.add_argument("--no-flip", dest="flip", action="store_false",
                   help="no reflections: pass it for digits, letters, text or any data where "
                        "a mirror image is another class or none")
    p.add_argument("--no-crop", action="store_true", help="no random crops (centre crop)")
    p.add_argument("--no-pca", action="store_true", help="no PCA colour augmentation")
    p.add_argument("--train-size", type=positive_int, default=D.synthetic_train,
                   help="synthetic data: training images")
    p.add_argument("--val-size", type=positive_int, default=D.synthetic_val,
                   help="synthetic data: validation images")
    p.add_argument("--cache-dir", default="", help="where decoded-image caches are kept")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--reference-layers", action="store_true",
                   help="train with the plain NumPy reference layers (alexnet_np/layers) "
                        "instead of their fast Numba siblings (same numbers, slower)")
    add_model_switches(p)
    p.set_defaults(func=run)


def default_out(args):
    name = "synthetic" if args.data == "synthetic" else os.path.basename(
        os.path.normpath(args.data))
    return os.path.join("runs", f"{args.arch}-{name}")


def default_flip(data):
    """(flip, note): the reflection default for ``--data`` when neither --flip nor --no-flip
    is given. Every synthetic class is mirror-symmetric up to the random rotation each image
    already draws, so a flip adds no new image; photos gain from flips (sec. 4.1)."""
    if data == "synthetic":
        return False, ("note: random flips are off for the synthetic set (a mirrored shape is "
                       "the same shape rotated, already in the data); --flip turns them on")
    return True, ("note: random horizontal flips are on (photos); for digits, letters or "
                  "text pass --no-flip (a mirrored 2 is no digit)")


def run(args):
    flip = args.flip
    if flip is None:
        flip, note = default_flip(args.data)
        if not args.resume:
            print(note, flush=True)
    settings = TrainSettings(
        data=args.data, arch=args.arch, epochs=args.epochs, batch_size=args.batch_size,
        lr=args.lr, momentum=args.momentum, weight_decay=args.weight_decay,
        schedule=args.schedule, seed=args.seed, device=args.device,
        out=args.out or default_out(args), resume=args.resume, max_steps=args.max_steps,
        log_every=args.log_every, flip=flip, warmup_steps=args.warmup, random_crop=not args.no_crop,
        pca_color=not args.no_pca, synthetic_train=args.train_size,
        synthetic_val=args.val_size, cache_dir=args.cache_dir, progress=not args.quiet,
        fast=not args.reference_layers,
        model_overrides=model_overrides(args))
    try:
        summary = train(settings, log=lambda m: print(m, flush=True))
    except KeyboardInterrupt:
        print(f"\ninterrupted; the last completed epoch is saved in "
              f"{os.path.join(settings.out, 'last.npz')} (continue with --resume)",
              file=sys.stderr)
        return 130
    final = summary.get("final")
    if final:
        print(f"done: {summary['epochs_completed']} epochs, {summary['step']} steps; "
              f"validation top-1 error {final['val_top1_error']:.2%}, top-5 error "
              f"{final['val_top5_error']:.2%} (best top-1 {summary['best_top1_error']:.2%})")
        print(f"run folder: {settings.out}  (try: alexnet-np evaluate --checkpoint "
              f"{os.path.join(settings.out, 'best.npz')})")
    else:
        print(f"nothing to do: {settings.out} already completed {summary['epochs_completed']} "
              "epochs; raise --epochs to train further")
    return 0
