"""``alexnet-np train``: train a preset on the synthetic default data or a real dataset."""

import dataclasses
import os
import sys

from ..checkpoint import read_meta
from ..model import PRESETS
from ..train import PRESET_TRAINING, TrainSettings, flag, preset_training, train
from .common import (
    add_model_switches,
    model_overrides,
    nonnegative_int,
    only_given,
    positive_int,
)

D = TrainSettings()


def preset_note(field):
    """', micro: 0.04' for the presets whose own training default of ``field`` differs
    (train.PRESET_TRAINING), for the help texts."""
    own = [f"{arch}: {d[field]}" for arch, d in PRESET_TRAINING.items() if field in d]
    return f"; {', '.join(own)}" if own else ""


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
    p.add_argument("--lr", type=float, default=D.lr,
                   help=f"learning rate (default {D.lr}{preset_note('lr')})")
    p.add_argument("--momentum", type=float, default=D.momentum)
    p.add_argument("--weight-decay", type=float, default=D.weight_decay)
    p.add_argument("--schedule", choices=["plateau", "step", "cosine"], default=D.schedule,
                   help="learning-rate schedule (paper: plateau, divide by 10)")
    p.add_argument("--warmup", dest="warmup_steps", type=nonnegative_int,
                   default=D.warmup_steps, metavar="STEPS",
                   help=f"linear learning-rate warm-up over the first STEPS steps (default "
                        f"{D.warmup_steps}{preset_note('warmup_steps')}; 0 = none, as in the "
                        f"paper; docs/training.md)")
    p.add_argument("--dropout-ramp", dest="dropout_ramp_steps", type=nonnegative_int,
                   default=D.dropout_ramp_steps, metavar="STEPS",
                   help=f"dropout rises linearly from 0 to its p over the first STEPS steps "
                        f"(default {D.dropout_ramp_steps}, at most one epoch; 0 = full p from "
                        f"the start, as in the paper)")
    p.add_argument("--seed", type=nonnegative_int, default=D.seed,
                   help="seed for init, data order, "
                   "augmentation and dropout")
    p.add_argument("--device", choices=["cpu", "cuda"], default=D.device)
    p.add_argument("--out", default=None, metavar="RUN_DIR",
                   help="run folder (default runs/<arch>-<data name>)")
    p.add_argument("--resume", action="store_true",
                   help="continue RUN_DIR/last.npz with its own settings; --epochs, --lr, "
                        "--max-steps and the run-time flags may change (and are reported), "
                        "flags that define the run (--arch, --data, --batch-size...) may not")
    p.add_argument("--max-steps", type=nonnegative_int, default=0,
                   help="stop after N steps in all, even inside an epoch (--resume continues "
                        "from that step; 0: no limit)")
    p.add_argument("--log-every", type=positive_int, default=D.log_every,
                   help="steps between metrics.jsonl lines")
    p.add_argument("--flip", dest="flip", action="store_true",
                   help="random horizontal reflections (sec. 4.1); the default for image "
                        "folders and CIFAR-10, not for the synthetic set")
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
    only_given(p)
    p.set_defaults(func=run)


def default_out(args):
    data, arch = getattr(args, "data", D.data), getattr(args, "arch", D.arch)
    name = "synthetic" if data == "synthetic" else os.path.basename(os.path.normpath(data))
    return os.path.join("runs", f"{arch}-{name}")


# command-line name -> TrainSettings field, for the options whose names differ
RENAMED = {"train_size": "synthetic_train", "val_size": "synthetic_val"}
# store_true switches -> (TrainSettings field, its value when the switch is given)
SWITCHES = {"no_crop": ("random_crop", False),
            "no_pca": ("pca_color", False), "quiet": ("progress", False),
            "reference_layers": ("fast", False)}


# Settings that hold for one command only: a resume does not inherit them from the run.
PER_INVOCATION = ("max_steps", "progress", "device", "fast", "out", "resume")


def given_settings(args):
    """The TrainSettings fields the command line set explicitly (the parser leaves the
    others out of ``args``, see ``only_given``)."""
    fields = {f.name for f in dataclasses.fields(TrainSettings)}
    given = {}
    for name, value in vars(args).items():
        if name in SWITCHES:
            field, on = SWITCHES[name]
            given[field] = on
        elif RENAMED.get(name, name) in fields:
            given[RENAMED.get(name, name)] = value
    overrides = model_overrides(args)
    if overrides:
        given["model_overrides"] = overrides
    return given


def default_flip(data):
    """(flip, note): the reflection default for ``--data`` when neither --flip nor --no-flip
    is given. Every synthetic class is mirror-symmetric up to the random rotation each image
    already draws, so a flip adds no new image; photos gain from flips (sec. 4.1)."""
    if data == "synthetic":
        return False, ("note: random flips are off for the synthetic set (a mirrored shape is "
                       "the same shape rotated, already in the data); --flip turns them on")
    return True, ("note: random horizontal flips are on (photos); for digits, letters or "
                  "text pass --no-flip (a mirrored 2 is no digit); the flags measured on "
                  "real digits: --no-flip --no-pca --no-crop --batch-size 16 --lr 0.005 "
                  "--schedule cosine (docs/training.md)")


def run(args):
    given = given_settings(args)
    out = given.pop("out", None) or default_out(args)
    if "flip" not in given and not given.get("resume"):
        given["flip"], note = default_flip(given.get("data", D.data))
        if given.get("progress", True):  # --quiet: no chatter
            print(note, flush=True)
    base = {}
    if given.get("resume"):  # flags not given keep the run's own values
        last = os.path.join(out, "last.npz")
        if os.path.isfile(last):
            saved = read_meta(last).get("settings")
            names = {f.name for f in dataclasses.fields(TrainSettings)}
            base = {k: v for k, v in (saved if isinstance(saved, dict) else {}).items()
                    if k in names and k not in PER_INVOCATION}
    # a fresh run takes its preset's own training defaults where no flag was given; a resumed
    # run keeps its saved settings
    own = {} if given.get("resume") else preset_training(given.get("arch", D.arch))
    used = {k: v for k, v in own.items() if k not in given}
    if used and given.get("progress", True):
        print(f"note: {given.get('arch', D.arch)}'s own training defaults: "
              f"{', '.join(f'{flag(k)} {v}' for k, v in used.items())} (docs/training.md; "
              "a flag given wins)", flush=True)
    settings = TrainSettings(**{**own, **base, **given, "out": out})
    try:
        summary = train(settings, log=lambda m: print(m, flush=True))
    except KeyboardInterrupt:
        last = os.path.join(settings.out, "last.npz")
        saved = (f"the last saved point is in {last} (continue with --resume)"
                 if os.path.isfile(last) else "nothing was saved yet")
        print(f"\ninterrupted; {saved}", file=sys.stderr)
        return 130
    final = summary.get("final")
    if "stopped_in_epoch" in summary:
        print(f"stopped at step {summary['step']} (--max-steps), after "
              f"{summary['batches_done']} batches of epoch {summary['stopped_in_epoch']}; "
              f"{os.path.join(settings.out, 'last.npz')} holds this point: continue with "
              "--resume")
    elif final:
        print(f"done: {summary['epochs_completed']} epochs, {summary['step']} steps; "
              f"validation top-1 error {final['val_top1_error']:.2%}, top-5 error "
              f"{final['val_top5_error']:.2%} (best top-1 {summary['best_top1_error']:.2%})")
        print(f"run folder: {settings.out}  (try: alexnet-np evaluate --checkpoint "
              f"{os.path.join(settings.out, 'best.npz')})")
    elif settings.max_steps and summary["step"] >= settings.max_steps:
        print(f"nothing to do: {settings.out} is already at step {summary['step']}; raise "
              "--max-steps (or drop it) to train further")
    else:
        print(f"nothing to do: {settings.out} already completed {summary['epochs_completed']} "
              "epochs; raise --epochs to train further")
    return 0
