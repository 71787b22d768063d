"""Ablations: train the paper's recipe and one variant per ingredient, same seed and budget.

The paper argues for each ingredient with a number (sec. 3.1 - 3.4, 4.1, 4.2); this module
re-runs each argument at small scale::

    for each variant (baseline, tanh, no LRN, 2/2 pooling, no dropout, no flips/crops,
                      no PCA colour, one tower):
        train it in DIR/<variant>/ (alexnet_np.train.train, resuming if it was interrupted);
        after each epoch (seen through train's log callback: last.npz has a new epoch):
        top-1/top-5 error on a fixed subset of the TRAINING images (centre crop, no
        augmentation, dropout off) -> DIR/<variant>/train_error.jsonl
    gather the final validation errors from each run's metrics.jsonl and write
    DIR/ablation.json, DIR/ablation.md (change versus baseline, the paper's figure beside it,
    epochs to 25% training error) and DIR/ablation.png (each variant's curves);
    then Fig. 1 the paper's way (tools/fig1.py): DIR/fig1.{json,png}.

The learning-rate schedule is the same for every variant: ``cosine`` over the epoch budget by
default. The paper's ``plateau`` schedule (divide by 10 when the validation error stops
improving) is available, but on a small, noisy validation set it drops the rate at different
epochs for different variants, which then decides the comparison more than the ingredient
does (docs/ablations.md shows such a study).

Resuming: the checkpoint holds the optimizer's velocity, the schedule and every random
generator's state (``tests/test_train.py`` checks the parity), so an interrupted variant
continues as if it had never stopped; a variant whose ``last.npz`` has reached the budget is
skipped.
"""

import dataclasses
import json
import math
import os
import time

from ..checkpoint import load_checkpoint, read_metrics
from ..errors import UserError
from ..model import AlexNetConfig, get_config
from ..train import TrainSettings, evaluate, load_data, load_for_inference, train
from . import fig1 as fig1_tool


@dataclasses.dataclass(frozen=True)
class Variant:
    """One arm of the study: what is switched off, and what the paper says that costs."""

    name: str  # the run folder's name, DIR/<name>
    label: str  # what changes, for the table
    model_overrides: dict  # AlexNetConfig fields
    settings: dict  # TrainSettings fields (augmentation switches)
    paper: str  # the paper's reported effect of this change (docs/paper.md)
    paper_top1: float = math.nan  # reported change of top-1 error, percentage points
    paper_top5: float = math.nan


VARIANTS = [
    Variant("baseline", "the paper's recipe", {}, {}, "-"),
    Variant("tanh", "tanh instead of ReLU", {"activation": "tanh"}, {},
            "6x more epochs to 25% training error (CIFAR-10, Fig. 1)"),
    Variant("no-lrn", "no local response normalization", {"lrn": False}, {},
            "+1.4 top-1 / +1.2 top-5 (CIFAR-10: 11% -> 13%)", 1.4, 1.2),
    Variant("pool-2x2", "max-pool 2/2 instead of 3/2", {"pool_kernel": 2, "pool_stride": 2}, {},
            "+0.4 top-1 / +0.3 top-5", 0.4, 0.3),
    Variant("no-dropout", "no dropout on fc6/fc7", {"dropout": 0.0}, {},
            "\"overfits badly\" (no figure given)"),
    Variant("no-flip-crop", "no random crops or flips", {}, {"flip": False, "random_crop": False},
            "\"substantial overfitting\" (no figure given)"),
    Variant("no-pca", "no PCA colour augmentation", {}, {"pca_color": False},
            "more than +1 top-1", 1.0),
    Variant("no-groups", "one tower (groups off, same kernel count)", {"grouped": False}, {},
            "+1.7 top-1 / +1.2 top-5, but vs one GPU with HALF the kernels", 1.7, 1.2),
]
VARIANT_NAMES = [v.name for v in VARIANTS]

# Fig. 1's threshold: epochs until the training error first falls to 25%.
TRAIN_ERROR_TARGET = 0.25


@dataclasses.dataclass
class StudySettings:
    """One ablation study (the shared budget; every variant uses the same values).

    The default regime lets the network overfit, so that dropout and augmentation have
    something to fight: 1000 training images seen 50 times (1,550 steps of 32) with the small
    presets' learning rate and init (docs/training.md); docs/ablations.md shows the baseline
    reaching 9% training error in it. ``QUICK`` is the same study, shorter.
    """

    out: str = "runs/ablation"  # DIR: one run folder per variant, plus ablation.{md,json}
    data: str = "synthetic"
    arch: str = "cifar"
    epochs: int = 50
    batch_size: int = 32
    lr: float = 0.02
    seed: int = 0
    synthetic_train: int = 1000
    synthetic_val: int = 500
    cache_dir: str = ""
    train_eval_size: int = 300  # training images whose error is measured after each epoch
    variants: tuple = tuple(VARIANT_NAMES)  # which arms to run (baseline is always included)
    schedule: str = "cosine"  # the same for every variant: cosine, step or plateau (the paper)
    device: str = "cpu"
    progress: bool = False  # the training loop's own progress bars
    warmup_steps: int = 20  # linear learning-rate warm-up (at most one epoch, train.warmup_steps)
    # Fig. 1 the paper's way (tools/fig1.py): a four-layer CNN, ReLU vs tanh, each at its
    # fastest learning rate of the grid, epochs to 25% training error; one run per seed.
    fig1: bool = True
    fig1_size: int = 16  # the synthetic/CIFAR images downscaled: 32x32 would cost 4x
    fig1_images: int = 512
    fig1_scale: float = 1 / 16  # inputs of std ~4: tanh saturates as with the paper's init
    fig1_lrs: tuple = (0.003, 0.01, 0.03, 0.1)
    fig1_shared_lr: float = 0.01  # the paper's initial rate, both activations
    fig1_epochs: int = 30


# `ablate --quick`: the same study, shorter and with one seed: a smoke test of the whole study
# (docs/ablations.md: it still underfits, so it is no evidence about the ingredients).
QUICK = {"epochs": 20, "synthetic_train": 500, "synthetic_val": 300, "train_eval_size": 300,
         "fig1_images": 256}
QUICK_SEEDS = [0]


def select_variants(names):
    """The Variant objects for ``names`` (baseline first, always present), in table order."""
    unknown = [n for n in names if n not in VARIANT_NAMES]
    if unknown:
        raise UserError(f"unknown variant(s) {', '.join(unknown)}; choose from "
                        f"{', '.join(VARIANT_NAMES)}")
    wanted = set(names) | {"baseline"}
    return [v for v in VARIANTS if v.name in wanted]


def paper_recipe_overrides(arch):
    """Model fields the study sets on every variant so that its baseline is the paper's
    recipe: dropout p = 0.5 on fc6/fc7 for a preset that has none of its own (``micro``);
    nothing for the others (their p is already 0.5)."""
    paper_p = AlexNetConfig.dropout
    return {} if get_config(arch).dropout == paper_p else {"dropout": paper_p}


def variant_settings(study, variant, epochs, resume):
    """The TrainSettings of one variant, trained up to ``epochs`` (its switches on top of
    :func:`paper_recipe_overrides`)."""
    overrides = {**paper_recipe_overrides(study.arch), **variant.model_overrides}
    return TrainSettings(
        data=study.data, arch=study.arch, epochs=epochs, batch_size=study.batch_size,
        lr=study.lr, schedule=study.schedule, warmup_steps=study.warmup_steps,
        seed=study.seed, device=study.device,
        out=os.path.join(study.out, variant.name), resume=resume,
        synthetic_train=study.synthetic_train, synthetic_val=study.synthetic_val,
        cache_dir=study.cache_dir, progress=study.progress,
        model_overrides=overrides, **variant.settings)


def completed_epochs(run_dir, study=None, variant=None):
    """Epochs in ``run_dir/last.npz`` (0 if none). With ``study``/``variant``, check that the
    saved run is this variant of this study (else resuming would mix two studies)."""
    path = os.path.join(run_dir, "last.npz")
    if not os.path.exists(path):
        return 0
    meta = load_checkpoint(path)[2]
    if study is not None:
        want = dataclasses.asdict(variant_settings(study, variant, study.epochs, False))
        saved = meta.get("settings", {})
        keys = ["arch", "seed", "batch_size", "lr", "schedule", "model_overrides", "flip",
                "random_crop", "pca_color", "synthetic_train", "synthetic_val",
                "warmup_steps"]
        if want["schedule"] != "plateau":
            keys.append("epochs")  # step and cosine depend on the budget
        for key in keys:
            if saved.get(key) != want[key]:
                raise UserError(f"{run_dir} holds a run with {key}={saved.get(key)!r}, but this "
                                f"study asks for {want[key]!r}; use another --out folder")
    return int(meta["epoch"])


def training_subset(dataset, n):
    """A Dataset whose 'val' split is the first ``n`` training images (for training error)."""
    n = min(n, len(dataset.train_labels))
    return dataclasses.replace(dataset, val_images=dataset.train_images[:n],
                               val_labels=dataset.train_labels[:n])


def measure_training_error(run_dir, subset, device="cpu", stepper=None, epoch=None):
    """Top-1/top-5 error on ``subset``'s training images (eval mode: centre crop, no
    augmentation, no dropout) of ``stepper`` at ``epoch`` (the live run), or else of
    ``run_dir/last.npz``. Returns the record appended to ``run_dir/train_error.jsonl``."""
    if stepper is None:
        _, stepper, meta, _ = load_for_inference(os.path.join(run_dir, "last.npz"), device,
                                                 fast=True)
        epoch = int(meta["epoch"])
    res = evaluate(stepper, subset, batch_size=128, scale=stepper.model.cfg.input_scale)
    record = {"epoch": int(epoch), "train_top1_error": res["top1_error"],
              "train_top5_error": res["top5_error"], "train_loss": res["loss"],
              "n_images": res["n_images"]}
    with open(os.path.join(run_dir, "train_error.jsonl"), "a") as f:
        f.write(json.dumps(record) + "\n")
    return record


def read_train_errors(run_dir):
    """``{epoch: record}`` from ``run_dir/train_error.jsonl`` (the latest line per epoch)."""
    path = os.path.join(run_dir, "train_error.jsonl")
    out = {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                if line.strip():
                    r = json.loads(line)
                    out[r["epoch"]] = r
    return out


def epochs_to_reach(train_errors, target=TRAIN_ERROR_TARGET):
    """First epoch whose training top-1 error is at most ``target``; None if never."""
    for epoch in sorted(train_errors):
        if train_errors[epoch]["train_top1_error"] <= target:
            return epoch
    return None


def run_variant(study, variant, dataset, subset, log=print, prefix=""):
    """Train one variant up to ``study.epochs`` (resuming), measuring training error after
    every epoch. Returns the wall time spent now (seconds)."""
    run_dir = os.path.join(study.out, variant.name)
    done = completed_epochs(run_dir, study, variant)
    t0 = time.perf_counter()
    if done and done not in read_train_errors(run_dir):
        measure_training_error(run_dir, subset, study.device)  # interrupted between the two
    if done >= study.epochs:
        log(f"{prefix} {variant.name}: already trained {done} epochs, skipped")
        return 0.0
    if done:
        log(f"{prefix} {variant.name}: resuming after epoch {done}")
    started = {"t": time.perf_counter()}

    def after_epoch(run, rec):
        tr = measure_training_error(run_dir, subset, stepper=run.stepper, epoch=run.epoch)
        log(f"{prefix} {variant.name}: epoch {run.epoch}/{study.epochs}  val top-1 "
            f"{rec['val_top1_error']:6.2%}  top-5 {rec['val_top5_error']:6.2%}  train top-1 "
            f"{tr['train_top1_error']:6.2%}  lr {rec['lr']:.2g}  "
            f"({time.perf_counter() - started['t']:.0f} s)")
        started["t"] = time.perf_counter()

    train(variant_settings(study, variant, study.epochs, resume=done > 0), dataset=dataset,
          log=lambda _msg: None, on_epoch_end=after_epoch)
    return time.perf_counter() - t0


def gather(study, variants):
    """Results of every variant at epoch ``study.epochs``, from the run folders."""
    rows = []
    for v in variants:
        run_dir = os.path.join(study.out, v.name)
        epochs = {r["epoch"]: r for r in read_metrics(run_dir) if r.get("type") == "epoch"}
        final = epochs.get(study.epochs)
        if final is None:
            raise UserError(f"{run_dir} has no result for epoch {study.epochs}")
        terr = {e: r for e, r in read_train_errors(run_dir).items() if e <= study.epochs}
        rows.append({
            "variant": v.name, "change": v.label,
            "model_overrides": v.model_overrides, "settings": v.settings,
            "val_top1_error": final["val_top1_error"], "val_top5_error": final["val_top5_error"],
            "best_val_top1_error": min(r["val_top1_error"] for e, r in epochs.items()
                                       if e <= study.epochs),
            "train_top1_error": terr[max(terr)]["train_top1_error"] if terr else None,
            "train_top1_curve": [terr[e]["train_top1_error"] for e in sorted(terr)],
            "val_top1_curve": [epochs[e]["val_top1_error"] for e in sorted(epochs)
                               if e <= study.epochs],
            "epochs_to_25pct_train_error": epochs_to_reach(terr),
            "lr_drop_epochs": lr_drop_epochs([epochs[e] for e in sorted(epochs)
                                              if e <= study.epochs]),
            "train_time_s": round(sum(r.get("time_s", 0.0) for e, r in epochs.items()
                                      if e <= study.epochs), 1),
            "paper": v.paper, "paper_top1_change": _nan_to_none(v.paper_top1),
            "paper_top5_change": _nan_to_none(v.paper_top5),
        })
    base = rows[0]
    for r in rows:
        r["top1_change"] = 100 * (r["val_top1_error"] - base["val_top1_error"])
        r["top5_change"] = 100 * (r["val_top5_error"] - base["val_top5_error"])
    return rows


def lr_drop_epochs(records):
    """Epochs that started with a lower learning rate than the epoch before (plateau drops)."""
    return [b["epoch"] for a, b in zip(records[:-1], records[1:], strict=True)
            if b["lr"] < a["lr"]]


def _nan_to_none(x):
    return None if isinstance(x, float) and math.isnan(x) else x


def noise_pp(error, n):
    """Standard error, in percentage points, of the DIFFERENCE of two error rates near
    ``error`` measured on ``n`` images each: sqrt(2 p (1 - p) / n) (binomial, independent)."""
    return 100 * math.sqrt(2 * error * (1 - error) / max(n, 1))


def _pct(x):
    return "-" if x is None else f"{100 * x:.1f}%"


def _pp(x):
    return f"{x:+.1f}"


def render_markdown(study, rows, n_val, n_train_eval, command=""):
    """The table of ``ablation.md``."""
    base = rows[0]
    lines = [f"# Ablation study: {study.arch} preset on {study.data}, {study.epochs} epochs",
             ""]
    if command:
        lines += ["```", command, "```", ""]
    lines += [
        f"Same seed ({study.seed}), batch {study.batch_size}, learning rate {study.lr}, "
        f"{study.epochs} epochs and the {study.schedule} learning-rate schedule for every "
        f"variant. Errors on {n_val} validation images "
        "(centre crop); changes are variant minus baseline in percentage points (positive = "
        "removing the ingredient hurt). Training error: top-1 on the first "
        f"{n_train_eval} training images, centre crop, no augmentation, dropout off.",
        "",
    ]
    plateau = study.schedule == "plateau"  # then show when each variant's rate dropped
    lines += [
        "| variant | what changes | val top-1 | val top-5 | change top-1 | change top-5 "
        f"| best val top-1 | train top-1 |{' lr drops (epoch) |' if plateau else ''} "
        "paper's reported change |",
        "|---|---|---|---|---|---|---|---|" + ("---|" if plateau else "") + "---|",
    ]
    for r in rows:
        drops = ", ".join(map(str, r.get("lr_drop_epochs", []))) or "none"
        lines.append(
            f"| {r['variant']} | {r['change']} | {_pct(r['val_top1_error'])} "
            f"| {_pct(r['val_top5_error'])} | "
            f"{'-' if r is base else _pp(r['top1_change'])} | "
            f"{'-' if r is base else _pp(r['top5_change'])} | "
            f"{_pct(r.get('best_val_top1_error'))} | {_pct(r['train_top1_error'])} | "
            f"{drops + ' | ' if plateau else ''}{r['paper']} |")
    total = sum(r.get("train_time_s", 0.0) for r in rows)
    lines += ["", f"Training time, all variants together: {total / 60:.1f} min (the epochs' "
                  "times in the runs' metrics.jsonl, validation included; training-error "
                  "measurements not included)."]
    noise = noise_pp(base["val_top1_error"], n_val)
    lines += ["", f"Noise: with {n_val} validation images a difference of top-1 errors near "
                  f"{_pct(base['val_top1_error'])} has a standard error of about {noise:.1f} "
                  "points, so changes smaller than about twice that are not evidence either "
                  "way (one seed per variant).", ""]
    by = {r["variant"]: r for r in rows}
    if "tanh" in by:
        lines += ["ReLU vs tanh (the paper's Fig. 1: ReLU reaches 25% training error six "
                  "times faster):", ""]
        for name in ("baseline", "tanh"):
            r = by[name]
            reached = r["epochs_to_25pct_train_error"]
            curve = ", ".join(_pct(x) for x in r["train_top1_curve"])
            when = (f"not reached in {study.epochs} epochs" if reached is None
                    else f"{reached} epoch(s)")
            lines.append(f"- {'ReLU' if name == 'baseline' else 'tanh'}: {when} to 25% "
                         f"training error; training top-1 per epoch: {curve}")
        a = by["baseline"]["epochs_to_25pct_train_error"]
        b = by["tanh"]["epochs_to_25pct_train_error"]
        if a and b:
            lines.append(f"- ratio: tanh needed {b / a:.1f}x the epochs of ReLU (paper: 6x)")
        lines.append("")
    return "\n".join(lines)


def plot_study(rows, path, title=""):
    """Validation (solid) and training (dashed) top-1 error per epoch of every variant, one
    panel per variant with the baseline in grey behind it: where a variant overfits, its two
    curves part. Writes ``path`` (PNG)."""
    import matplotlib
    matplotlib.use("Agg")  # files only, never a window
    import matplotlib.pyplot as plt
    cols = 4
    nrows = math.ceil(len(rows) / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(3.2 * cols, 2.6 * nrows), squeeze=False,
                             sharex=True, sharey=True)
    base = rows[0]
    for ax, r in zip(axes.flat, rows, strict=False):
        for row, colour, lw in ((base, "0.6", 2.5), (r, "C0", 1.2)):
            ax.plot(range(1, len(row["val_top1_curve"]) + 1),
                    [100 * e for e in row["val_top1_curve"]], "-", color=colour, lw=lw,
                    label=f"{row['variant']} val")
            ax.plot(range(1, len(row["train_top1_curve"]) + 1),
                    [100 * e for e in row["train_top1_curve"]], "--", color=colour, lw=lw,
                    label=f"{row['variant']} train")
        ax.set(title=r["variant"], ylim=(0, 100))
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(rows):]:
        ax.axis("off")
    for ax in axes[-1]:
        ax.set_xlabel("epoch")
    for ax in axes[:, 0]:
        ax.set_ylabel("top-1 error (%)")
    axes.flat[min(1, len(rows) - 1)].legend(fontsize=6)
    fig.suptitle(title or "validation (solid) and training (dashed) error; baseline in grey")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def run_study(study, log=print, command=""):
    """Train every selected variant (resuming), then write ``ablation.json`` and
    ``ablation.md`` in ``study.out``. Returns the result rows."""
    if study.epochs < 1:
        raise UserError(f"--epochs must be at least 1, got {study.epochs}")
    if study.train_eval_size < 1:
        raise UserError(f"--train-eval-size must be at least 1, got {study.train_eval_size}")
    variants = select_variants(study.variants)
    os.makedirs(study.out, exist_ok=True)
    cfg = get_config(study.arch)
    dataset = load_data(study.data, cfg.image_size, seed=study.seed,
                        synthetic_train=study.synthetic_train,
                        synthetic_val=study.synthetic_val, cache_dir=study.cache_dir,
                        verbose=study.progress)
    subset = training_subset(dataset, study.train_eval_size)
    log(f"ablation study in {study.out}: {len(variants)} variants x {study.epochs} epochs of "
        f"'{study.arch}' on {dataset.name} ({len(dataset.train_labels)} train / "
        f"{len(dataset.val_labels)} val images)")
    t0 = time.perf_counter()
    for i, v in enumerate(variants, 1):
        prefix = f"[{i}/{len(variants)}]"
        spent = run_variant(study, v, dataset, subset, log=log, prefix=prefix)
        if spent:
            log(f"{prefix} {v.name}: done ({spent:.0f} s; {time.perf_counter() - t0:.0f} s "
                "in all)")
    rows = gather(study, variants)
    n_val = len(dataset.val_labels)
    payload = {"settings": dataclasses.asdict(study), "command": command,
               "n_val_images": n_val, "n_train_images": len(dataset.train_labels),
               "train_error_target": TRAIN_ERROR_TARGET, "variants": rows}
    payload["settings"]["variants"] = list(study.variants)
    with open(os.path.join(study.out, "ablation.json"), "w") as f:
        json.dump(payload, f, indent=1)
    with open(os.path.join(study.out, "ablation.md"), "w") as f:
        f.write(render_markdown(study, rows, n_val, len(subset.val_labels), command))
    plot_study(rows, os.path.join(study.out, "ablation.png"),
               f"seed {study.seed}: validation (solid) and training (dashed) top-1 error; "
               "baseline in grey")
    return rows


def render_seeds_markdown(study, seeds, rows_by_seed, n_val, command=""):
    """The table of ``DIR/ablation.md`` for a study repeated over several seeds: each seed's
    figures side by side, the mean change, and Fig. 1's epochs to 25% training error."""
    names = [r["variant"] for r in rows_by_seed[0]]
    by_seed = [{r["variant"]: r for r in rows} for rows in rows_by_seed]
    tag = ", ".join(f"seed {s}" for s in seeds)
    lines = [f"# Ablation study: {study.arch} preset on {study.data}, {study.epochs} epochs, "
             f"{len(seeds)} seeds", ""]
    if command:
        lines += ["```", command, "```", ""]
    lines += [
        f"Every variant: batch {study.batch_size}, learning rate {study.lr} with "
        f"{study.warmup_steps} warm-up steps, the {study.schedule} schedule, "
        f"{study.synthetic_train if study.data == 'synthetic' else 'all'} training images, "
        f"{study.epochs} epochs; {n_val} validation images. Each seed changes the data (for "
        "the synthetic set), the initialisation, the batch order, the augmentation and the "
        f"dropout masks. Per-seed tables: seed<N>/ablation.md. Figures per seed ({tag}).",
        "",
        "| variant | what changes | val top-1 | change top-1 | mean change | train top-1 "
        "| epochs to 25% train error | paper's reported change |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in names:
        rs = [b[name] for b in by_seed]
        base = name == "baseline"
        mean = sum(r["top1_change"] for r in rs) / len(rs)
        lines.append(
            f"| {name} | {rs[0]['change']} | {' / '.join(_pct(r['val_top1_error']) for r in rs)}"
            f" | {'-' if base else ' / '.join(_pp(r['top1_change']) for r in rs)}"
            f" | {'-' if base else _pp(mean)}"
            f" | {' / '.join(_pct(r['train_top1_error']) for r in rs)}"
            f" | {' / '.join(str(r['epochs_to_25pct_train_error'] or '-') for r in rs)}"
            f" | {rs[0]['paper']} |")
    noise = noise_pp(by_seed[0]["baseline"]["val_top1_error"], n_val)
    lines += ["", f"Noise: one seed's change has a standard error of about {noise:.1f} points "
                  f"({n_val} validation images); the mean of {len(seeds)} seeds about "
                  f"{noise / math.sqrt(len(seeds)):.1f} (seed-to-seed variation of the "
                  "training itself comes on top). '-' in the epochs column: 25% training "
                  "error not reached within the budget.", ""]
    if "tanh" in names:
        pairs = [(b["baseline"]["epochs_to_25pct_train_error"],
                  b["tanh"]["epochs_to_25pct_train_error"]) for b in by_seed]
        lines.append("ReLU vs tanh, epochs to 25% training error (paper, Fig. 1: tanh 6x "
                     "slower): " + "; ".join(
                         f"seed {s}: ReLU {a or 'not reached'}, tanh {b or 'not reached'}"
                         + (f" ({b / a:.1f}x)" if a and b else "")
                         for s, (a, b) in zip(seeds, pairs, strict=True)))
        lines.append("")
    return "\n".join(lines)


def fig1_settings(study, seeds):
    """What one Fig. 1 measurement depends on (kept in fig1.json; a mismatch re-measures)."""
    return {"data": study.data, "size": study.fig1_size, "n_images": study.fig1_images,
            "scale": study.fig1_scale, "lrs": list(study.fig1_lrs),
            "shared_lr": study.fig1_shared_lr, "epochs": study.fig1_epochs,
            "seeds": list(seeds)}


def run_fig1(study, seeds, log=print):
    """Fig. 1 the paper's way for every seed (tools/fig1.py): ``DIR/fig1.json`` (reused when
    its settings match) and ``DIR/fig1.png``. Returns ``(results, settings)``."""
    settings = fig1_settings(study, seeds)
    path = os.path.join(study.out, "fig1.json")
    if os.path.exists(path):
        with open(path) as f:
            saved = json.load(f)
        if saved.get("settings") == settings:
            log("fig1: already measured, reused")
            return {int(k): v for k, v in saved["results"].items()}, settings
    if study.fig1_shared_lr not in study.fig1_lrs:
        raise UserError(f"the shared Fig. 1 learning rate {study.fig1_shared_lr} must be one "
                        f"of the grid {list(study.fig1_lrs)}")
    results = {}
    for seed in seeds:
        x, y = fig1_tool.load_inputs(study.data, study.fig1_size, study.fig1_images, seed,
                                     study.fig1_scale, study.cache_dir)
        results[seed] = fig1_tool.measure(x, y, lrs=study.fig1_lrs, seeds=(seed,),
                                          epochs=study.fig1_epochs, log=log)[seed]
    with open(path, "w") as f:
        json.dump({"settings": settings, "results": results}, f, indent=1)
    fig1_tool.plot(results, study.fig1_shared_lr, os.path.join(study.out, "fig1.png"))
    return results, settings


def _add_fig1(study, seeds, log):
    """Measure Fig. 1 (unless switched off) and append it to ``DIR/ablation.{md,json}``."""
    if not study.fig1:
        return
    results, settings = run_fig1(study, seeds, log=log)
    with open(os.path.join(study.out, "ablation.md"), "a") as f:
        f.write("\n" + fig1_tool.render_markdown(results, settings))
    path = os.path.join(study.out, "ablation.json")
    with open(path) as f:
        payload = json.load(f)
    payload["fig1"] = {"settings": settings, "results": results}
    with open(path, "w") as f:
        json.dump(payload, f, indent=1)


def run_seeds(study, seeds, log=print, command=""):
    """Run the study once per seed. One seed: as :func:`run_study`, in ``study.out``. Several:
    in ``study.out/seed<N>/``, then ``study.out/ablation.{md,json}`` side by side. Then Fig. 1
    the paper's way for the same seeds (``study.fig1``). Returns the rows of each seed."""
    seeds = list(dict.fromkeys(seeds))
    if len(seeds) == 1:
        rows = run_study(dataclasses.replace(study, seed=seeds[0]), log=log, command=command)
        _add_fig1(study, seeds, log)
        return [rows]
    rows_by_seed = []
    for seed in seeds:
        sub = dataclasses.replace(study, seed=seed, out=os.path.join(study.out, f"seed{seed}"))
        log(f"--- seed {seed} ---")
        rows_by_seed.append(run_study(sub, log=log, command=command))
    with open(os.path.join(study.out, f"seed{seeds[0]}", "ablation.json")) as f:
        n_val = json.load(f)["n_val_images"]
    with open(os.path.join(study.out, "ablation.json"), "w") as f:
        json.dump({"settings": {**dataclasses.asdict(study), "variants": list(study.variants)},
                   "seeds": seeds, "command": command, "n_val_images": n_val,
                   "variants_by_seed": rows_by_seed}, f, indent=1)
    with open(os.path.join(study.out, "ablation.md"), "w") as f:
        f.write(render_seeds_markdown(study, seeds, rows_by_seed, n_val, command))
    _add_fig1(study, seeds, log)
    return rows_by_seed
