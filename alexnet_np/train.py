"""The training loop: SGD on mini-batches, validation per epoch, checkpoints, resume.

The paper (sec. 5): batch 128, momentum 0.9, weight decay 0.0005, learning rate 0.01 divided by
10 when the validation error stops improving, about 90 epochs. ``TrainSettings`` holds those
choices (scaled to what a laptop can do) and :func:`train` runs them::

    for each epoch:
        for each mini-batch (x, y) of augmented training images:
            loss = forward + softmax cross-entropy;  backward;  SGD step
        validation top-1 / top-5 error; learning-rate schedule; save last.npz (and best.npz)

Everything that decides the result is seeded and saved, so that a run stopped after epoch k and
resumed gives the same parameters as a run that never stopped.
"""

import dataclasses
import math
import os
import time
from dataclasses import dataclass

import numpy as np

from .checkpoint import RunLog, _truncate_metrics, load_checkpoint, save_checkpoint
from .errors import UserError
from .layers import softmax
from .model import AlexNet, config_from_dict, config_to_dict, get_config
from .optim import SGD, make_schedule
from .tools.progress import Progress


@dataclass
class TrainSettings:
    """One training run. Model switches (dropout, LRN, ...) go to ``model_overrides``."""

    data: str = "synthetic"  # "synthetic" or a path to an image folder or CIFAR-10 folder
    arch: str = "cifar"  # a preset from model.PRESETS
    epochs: int = 10
    batch_size: int = 64  # the paper: 128
    lr: float = 0.02  # the paper starts at 0.01; the small default run needs fewer steps
    momentum: float = 0.9
    weight_decay: float = 0.0005
    schedule: str = "plateau"  # plateau (the paper), step, cosine
    seed: int = 0
    device: str = "cpu"  # cpu or cuda
    out: str = "runs/default"  # the run folder
    resume: bool = False
    max_steps: int = 0  # stop after this many steps in all (0: no limit)
    log_every: int = 20  # steps between metrics.jsonl lines
    flip: bool = True  # random horizontal reflections (sec. 4.1)
    random_crop: bool = True  # random crops of the stored image (sec. 4.1)
    pca_color: bool = True  # PCA colour augmentation (sec. 4.1)
    synthetic_train: int = 5000  # images in the synthetic training split
    synthetic_val: int = 1000
    cache_dir: str = ""  # where decoded image caches go ("" = the default cache folder)
    progress: bool = True
    fast: bool = True  # the fast CPU layers (alexnet_np/fast); False: the NumPy reference layers
    model_overrides: dict = dataclasses.field(default_factory=dict)


class TrainingDiverged(UserError):
    """The loss became NaN or infinite."""


class NumpyStepper:
    """The CPU training step: forward, loss, backward, the paper's SGD update.

    ``alexnet_np.cuda.stepper.CudaStepper`` has the same methods and keeps everything on the
    GPU; ``sync_to_host`` copies its parameters back into ``model.params`` before a save.
    """

    def __init__(self, model, optimizer):
        self.model, self.optimizer = model, optimizer

    def train_step(self, x, y):
        self.model.train()
        loss, _ = self.model.loss_and_backward(x, y)
        self.optimizer.step(self.model.grads)
        return float(loss)

    def logits(self, x):
        self.model.eval()
        return self.model.forward(x)

    def features(self, x, upto="relu7"):
        self.model.eval()
        return self.model.forward(x, upto=upto)

    def sync_to_host(self):
        pass


def make_optimizer(params, fast=True, **kw):
    """The paper's SGD: the fused Numba update for the fast path, else the reference."""
    if fast:
        from .fast.sgd import FastSGD
        return FastSGD(params, **kw)
    return SGD(params, **kw)


def make_stepper(model, optimizer, device="cpu", seed=0, start_step=0):
    """A NumpyStepper, or a CudaStepper for ``device="cuda"`` (one clear error without GPU).

    On the GPU, dropout masks are a hash of (seed, layer, step, unit), so a resumed run passes
    the step it resumes at.
    """
    if device == "cpu":
        return NumpyStepper(model, optimizer)
    if device == "cuda":
        from .cuda import require_gpu
        require_gpu()
        from .cuda.stepper import CudaStepper
        stepper = CudaStepper(model, optimizer, seed=seed)
        stepper.step = start_step
        return stepper
    raise UserError(f"unknown device '{device}'; choose cpu or cuda")


def load_data(data, image_size, seed=0, synthetic_train=5000, synthetic_val=1000, cache_dir="",
              verbose=True):
    """``alexnet_np.data.load_dataset`` with the settings' names."""
    from .data import load_dataset
    return load_dataset(data, image_size, seed=seed, cache_dir=cache_dir or None,
                        synthetic_train=synthetic_train, synthetic_val=synthetic_val,
                        verbose=verbose)


def topk_errors(logits, labels, ks=(1, 5)):
    """Count of examples whose label is not among the k largest logits, for each k."""
    order = np.argsort(-logits, axis=1)
    return [int(np.sum(~np.any(order[:, :k] == labels[:, None], axis=1))) for k in ks]


def evaluate(stepper, dataset, batch_size=128, ten_crop=False, scale=1.0, crop_size=None,
             progress=False):
    """Top-1 and top-5 error (fractions) and mean loss on the validation split.

    With ``ten_crop`` each image is classified from ten views (four corners, centre, and their
    mirrors) whose softmax outputs are averaged (sec. 4.1).
    """
    from .data import BatchLoader
    from .data import ten_crop as ten_crop_views

    crop = crop_size or stepper.model.cfg.input_size
    n = len(dataset.val_labels)
    if n == 0:
        raise UserError("the validation split is empty")
    wrong1 = wrong5 = 0
    loss_sum = 0.0
    bar = Progress(n, "evaluate", unit="img", enabled=progress)
    if ten_crop:
        mean = dataset.mean_image  # (3, S, S)
        for start in range(0, n, max(1, batch_size // 10)):
            imgs = dataset.val_images[start:start + max(1, batch_size // 10)]  # (B, S, S, 3)
            centred = (imgs.transpose(0, 3, 1, 2).astype(np.float32) - mean) * scale
            views = np.stack([ten_crop_views(im, crop) for im in centred])  # (B, 10, 3, c, c)
            b = views.shape[0]
            logits = stepper.logits(views.reshape(b * 10, 3, crop, crop))  # (B*10, K)
            probs = softmax(logits.astype(np.float64)).reshape(b, 10, -1).mean(axis=1)
            labels = np.asarray(dataset.val_labels[start:start + b])
            loss_sum += float(-np.log(probs[np.arange(b), labels] + 1e-12).sum())
            e1, e5 = topk_errors(probs, labels)
            wrong1, wrong5 = wrong1 + e1, wrong5 + e5
            bar.update(b)
    else:
        loader = BatchLoader(dataset, split="val", batch_size=batch_size, crop_size=crop,
                             train=False, scale=scale, prefetch=True)
        for x, y in loader:
            logits = stepper.logits(x).astype(np.float64)
            probs = softmax(logits)
            loss_sum += float(-np.log(probs[np.arange(len(y)), y] + 1e-12).sum())
            e1, e5 = topk_errors(logits, y)
            wrong1, wrong5 = wrong1 + e1, wrong5 + e5
            bar.update(len(y))
    bar.close()
    return {"top1_error": wrong1 / n, "top5_error": wrong5 / n, "loss": loss_sum / n,
            "n_images": n}


def rng_state(rng):
    return rng.bit_generator.state


def set_rng_state(rng, state):
    rng.bit_generator.state = state


def build_from_settings(s, num_classes):
    """Model configuration from the settings (preset + switches + the dataset's classes)."""
    return get_config(s.arch, num_classes=num_classes, **s.model_overrides)


def check_settings(s):
    """Refuse settings that cannot run, before any data is loaded or folder made."""
    if s.epochs < 1:
        raise UserError(f"--epochs must be at least 1, got {s.epochs}")
    if s.batch_size < 1:
        raise UserError(f"--batch-size must be at least 1, got {s.batch_size}")
    if not s.lr > 0:
        raise UserError(f"--lr must be positive, got {s.lr}")
    if s.device == "cuda":
        from .cuda import require_gpu
        require_gpu()


@dataclass
class Run:
    """What a training run carries from one epoch to the next (see :func:`train`)."""

    settings: TrainSettings  # the settings in force (a resumed run's own, see restore_or_start)
    dataset: object  # the alexnet_np.data Dataset
    model: AlexNet
    optimizer: SGD  # or FastSGD; its state_dict() is what a checkpoint saves
    schedule: object  # an optim schedule: the learning rate for the next epoch
    data_rng: np.random.Generator  # image order, crops, flips, colour shifts
    log: object  # the caller's one-line message function
    stepper: object = None  # NumpyStepper or CudaStepper (made once the state is restored)
    epoch: int = 0  # epochs completed
    step: int = 0  # SGD steps taken in all
    best_top1: float = math.inf  # best validation top-1 error so far

    @property
    def last_path(self):
        return os.path.join(self.settings.out, "last.npz")

    @property
    def best_path(self):
        return os.path.join(self.settings.out, "best.npz")

    @property
    def metrics_path(self):
        return os.path.join(self.settings.out, "metrics.jsonl")


def restore_or_start(s, dataset=None, log=print):
    """Step 1: a :class:`Run` at epoch 0, or restored from ``s.out/last.npz`` with
    ``s.resume`` (parameters, optimizer, schedule, both random generators, counters)."""
    last_path = os.path.join(s.out, "last.npz")
    checkpoint = None
    if s.resume:
        if not os.path.exists(last_path):
            raise UserError(f"--resume: no checkpoint at {last_path}; start without --resume")
        checkpoint = load_checkpoint(last_path)
        saved = checkpoint[2]["settings"]
        # the run continues with the saved settings, except how long it runs and where
        keep = {k: getattr(s, k) for k in ("epochs", "max_steps", "progress", "out", "resume",
                                          "device", "log_every", "cache_dir", "fast")}
        s = TrainSettings(**{**saved, **keep})
    elif os.path.exists(last_path):
        raise UserError(f"{s.out} already holds a run (last.npz); pass --resume to continue it "
                        "or --out NEW_FOLDER to start another")

    probe = get_config(s.arch, **s.model_overrides)
    if dataset is None:
        dataset = load_data(s.data, probe.image_size, seed=s.seed,
                            synthetic_train=s.synthetic_train, synthetic_val=s.synthetic_val,
                            cache_dir=s.cache_dir, verbose=s.progress)
    if checkpoint is not None:
        mcfg = config_from_dict(checkpoint[2]["model"])
    else:
        mcfg = build_from_settings(s, len(dataset.classes))
    stored = dataset.train_images.shape[1]
    if stored < mcfg.input_size:
        raise UserError(f"images are stored at {stored}x{stored}, smaller than the network's "
                        f"{mcfg.input_size}x{mcfg.input_size} input")
    model = AlexNet(mcfg, rng=np.random.default_rng(s.seed), fast=s.fast)
    run = Run(settings=s, dataset=dataset, model=model,
              optimizer=make_optimizer(model.params, s.fast, lr=s.lr, momentum=s.momentum,
                                       weight_decay=s.weight_decay),
              schedule=make_schedule(s.schedule, s.lr, s.epochs),
              data_rng=np.random.default_rng([s.seed, 1]), log=log)
    if checkpoint is not None:
        params, velocity, meta, _ = checkpoint
        model.load_params(params)
        run.optimizer.load_state_dict({**optimizer_meta(meta, s), "velocity": velocity})
        run.schedule.load_state_dict(meta["schedule"])
        set_rng_state(run.data_rng, meta["rng"]["data"])
        set_rng_state(model.dropout_rng, meta["rng"]["dropout"])
        run.epoch, run.step, run.best_top1 = meta["epoch"], meta["step"], meta["best_top1_error"]
        _truncate_metrics(run.metrics_path, run.step)
        log(f"resuming {s.out} at epoch {run.epoch + 1} (step {run.step})")
    else:
        if os.path.exists(run.metrics_path):
            os.remove(run.metrics_path)
        log(f"training '{mcfg.name}' ({model.num_params():,} parameters) on {dataset.name} "
            f"({len(dataset.train_labels):,} train / {len(dataset.val_labels):,} val images, "
            f"{len(dataset.classes)} classes) for {s.epochs} epochs on {s.device}")
    run.stepper = make_stepper(model, run.optimizer, s.device, seed=s.seed, start_step=run.step)
    return run


def optimizer_meta(meta, s):
    """The optimizer's scalar state from checkpoint metadata (older files: lr only)."""
    return meta.get("optimizer") or {"lr": meta["lr"], "momentum": s.momentum,
                                     "weight_decay": s.weight_decay}


def train_one_epoch(run):
    """Step 2: one pass over the shuffled, augmented training split (or up to
    ``max_steps``). Returns the step losses. Raises TrainingDiverged on a NaN/inf loss."""
    from .data import BatchLoader

    s, cfg = run.settings, run.model.cfg
    loader = BatchLoader(run.dataset, split="train", batch_size=s.batch_size,
                         crop_size=cfg.input_size, train=True, rng=run.data_rng,
                         flip=s.flip, random_crop=s.random_crop, pca_color=s.pca_color,
                         scale=cfg.input_scale, drop_last=True, shuffle=True, prefetch=True)
    n_batches = len(loader)
    if s.max_steps:
        n_batches = min(n_batches, s.max_steps - run.step)
    bar = Progress(n_batches, f"epoch {run.epoch + 1}/{s.epochs}", unit="batch",
                   enabled=s.progress, rate_unit="img/s", rate_scale=s.batch_size)
    runlog = RunLog(run.metrics_path)
    losses = []
    batches = iter(loader)
    try:
        for x, y in batches:
            loss = run.stepper.train_step(x, y)
            run.step += 1
            if not math.isfinite(loss):
                bar.close()
                runlog.write({"type": "step", "step": run.step, "epoch": run.epoch + 1,
                              "loss": str(loss), "lr": run.optimizer.lr})
                kept = (f"the last good checkpoint is {run.last_path}"
                        if os.path.exists(run.last_path) else "no checkpoint was written yet")
                raise TrainingDiverged(
                    f"the loss became {loss} at step {run.step} (epoch {run.epoch + 1}); "
                    f"training stopped. Try a lower learning rate, e.g. "
                    f"--lr {run.optimizer.lr / 10:g}; {kept}")
            losses.append(loss)
            bar.update(1, loss=float(np.mean(losses[-20:])), lr=run.optimizer.lr)
            if run.step % s.log_every == 0:
                runlog.write({"type": "step", "step": run.step, "epoch": run.epoch + 1,
                              "loss": loss, "lr": run.optimizer.lr})
            if s.max_steps and run.step >= s.max_steps:
                break
    finally:
        bar.close()
        if hasattr(batches, "close"):
            batches.close()
    return losses


def validate(run):
    """Step 3: top-1/top-5 error and loss on the validation split (centre crops)."""
    return evaluate(run.stepper, run.dataset, batch_size=max(run.settings.batch_size, 64),
                    scale=run.model.cfg.input_scale)


def save(run, record, improved):
    """Step 4: write last.npz (and best.npz when the epoch improved), atomically."""
    run.stepper.sync_to_host()
    state = run.optimizer.state_dict()
    meta = {
        "model": config_to_dict(run.model.cfg),
        "settings": dataclasses.asdict(run.settings),
        "classes": list(run.dataset.classes),
        "data": {"name": run.dataset.name, "source": run.dataset.source,
                 "image_size": int(run.dataset.train_images.shape[1])},
        "epoch": run.epoch, "step": run.step, "lr": run.optimizer.lr,
        "optimizer": {k: state[k] for k in ("lr", "momentum", "weight_decay")},
        "schedule": run.schedule.state_dict(), "best_top1_error": run.best_top1,
        "rng": {"data": rng_state(run.data_rng), "dropout": rng_state(run.model.dropout_rng)},
        "metrics": record,
    }
    save_checkpoint(run.last_path, run.model.params, meta, state["velocity"],
                    run.dataset.mean_image)
    if improved:
        save_checkpoint(run.best_path, run.model.params, meta, None, run.dataset.mean_image)


def train(settings, dataset=None, log=print, on_epoch_end=None):
    """Run one training job. Returns a summary dict (final and best validation errors...).

    ``dataset`` (optional) is an already loaded ``alexnet_np.data`` Dataset; otherwise it is
    loaded from ``settings.data``. ``log`` receives one-line messages. ``on_epoch_end(run,
    record)``, if given, is called after each epoch is saved, with the :class:`Run` (its
    model and stepper hold the epoch's parameters) and the epoch's metrics record.

    The steps, each a function above: :func:`restore_or_start`, then per epoch
    :func:`train_one_epoch`, :func:`validate`, the schedule, :func:`save`.
    """
    check_settings(settings)
    os.makedirs(settings.out, exist_ok=True)
    run = restore_or_start(settings, dataset, log)
    s = run.settings
    summary = {"run_dir": s.out, "epochs_completed": run.epoch, "step": run.step}
    while run.epoch < s.epochs:
        if s.max_steps and run.step >= s.max_steps:
            break
        t0 = time.perf_counter()
        losses = train_one_epoch(run)
        val = validate(run)
        train_loss = float(np.mean(losses)) if losses else float("nan")
        improved = val["top1_error"] < run.best_top1
        run.best_top1 = min(run.best_top1, val["top1_error"])
        lr_used = run.optimizer.lr
        run.optimizer.lr = run.schedule.step(val["top1_error"])
        run.epoch += 1
        record = {"type": "epoch", "step": run.step, "epoch": run.epoch, "loss": train_loss,
                  "lr": lr_used, "val_top1_error": val["top1_error"],
                  "val_top5_error": val["top5_error"], "val_loss": val["loss"],
                  "time_s": round(time.perf_counter() - t0, 3)}
        RunLog(run.metrics_path).write(record)
        save(run, record, improved)
        log(f"epoch {run.epoch}/{s.epochs}: train loss {train_loss:.4f}, val top-1 error "
            f"{val['top1_error']:.2%}, top-5 error {val['top5_error']:.2%} "
            f"({time.perf_counter() - t0:.1f} s){' *best*' if improved else ''}")
        if run.optimizer.lr != lr_used:
            log(f"learning rate {lr_used:g} -> {run.optimizer.lr:g}")
        summary.update(epochs_completed=run.epoch, step=run.step, final=record,
                       best_top1_error=run.best_top1)
        draw_curves(s.out, log)
        if on_epoch_end is not None:
            on_epoch_end(run, record)
    return summary


def draw_curves(run_dir, log):
    """curves.png from metrics.jsonl; a failure is logged, never fatal."""
    try:
        from .tools.plots import plot_curves
        plot_curves(run_dir)
    except Exception as err:  # a plot must never cost a training run
        log(f"(could not draw curves.png: {err})")


def load_for_inference(checkpoint, device="cpu"):
    """Model, stepper, checkpoint meta and mean image from a checkpoint file."""
    params, _, meta, mean_image = load_checkpoint(checkpoint)
    cfg = config_from_dict(meta["model"])
    model = AlexNet(cfg, rng=np.random.default_rng(0))
    model.load_params(params)
    optimizer = SGD(model.params)
    return model, make_stepper(model, optimizer, device), meta, mean_image
