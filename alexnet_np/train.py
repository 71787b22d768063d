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
from .data import BatchLoader, load_dataset
from .data import ten_crop as ten_crop_views
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
        from .fast.sgd import FastSGD  # here, not at the top: the reference path needs no Numba
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
        from .cuda import require_gpu  # CUDA (numba-cuda) only when asked for
        require_gpu()
        from .cuda.stepper import CudaStepper
        stepper = CudaStepper(model, optimizer, seed=seed)
        stepper.step = start_step
        return stepper
    raise UserError(f"unknown device '{device}'; choose cpu or cuda")


def load_data(data, image_size, seed=0, synthetic_train=5000, synthetic_val=1000, cache_dir="",
              verbose=True):
    """``alexnet_np.data.load_dataset`` with the settings' names."""
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


def train(settings, dataset=None, log=print):
    """Run one training job. Returns a summary dict (final and best validation errors...).

    ``dataset`` (optional) is an already loaded ``alexnet_np.data`` Dataset; otherwise it is
    loaded from ``settings.data``. ``log`` receives one-line messages.
    """
    s = settings
    if s.epochs < 1:
        raise UserError(f"--epochs must be at least 1, got {s.epochs}")
    if s.batch_size < 1:
        raise UserError(f"--batch-size must be at least 1, got {s.batch_size}")
    if not s.lr > 0:
        raise UserError(f"--lr must be positive, got {s.lr}")
    if s.device == "cuda":  # before any data is loaded or folder made
        from .cuda import require_gpu  # CUDA (numba-cuda) only when asked for
        require_gpu()
    os.makedirs(s.out, exist_ok=True)
    last_path, best_path = os.path.join(s.out, "last.npz"), os.path.join(s.out, "best.npz")
    metrics_path = os.path.join(s.out, "metrics.jsonl")

    resume_state = None
    if s.resume:
        if not os.path.exists(last_path):
            raise UserError(f"--resume: no checkpoint at {last_path}; start without --resume")
        resume_state = load_checkpoint(last_path)
        saved = resume_state[2]["settings"]
        # the run continues with the saved settings, except how long it runs and where
        keep = {k: getattr(s, k) for k in ("epochs", "max_steps", "progress", "out", "resume",
                                          "device", "log_every", "cache_dir", "fast")}
        s = TrainSettings(**{**saved, **keep})
    elif os.path.exists(last_path):
        raise UserError(f"{s.out} already holds a run (last.npz); pass --resume to continue it "
                        "or --out NEW_FOLDER to start another")

    # --- data and model --------------------------------------------------------------
    probe = get_config(s.arch, **s.model_overrides)
    if dataset is None:
        dataset = load_data(s.data, probe.image_size, seed=s.seed,
                            synthetic_train=s.synthetic_train, synthetic_val=s.synthetic_val,
                            cache_dir=s.cache_dir, verbose=s.progress)
    if resume_state is not None:
        mcfg = config_from_dict(resume_state[2]["model"])
    else:
        mcfg = build_from_settings(s, len(dataset.classes))
    stored = dataset.train_images.shape[1]
    if stored < mcfg.input_size:
        raise UserError(f"images are stored at {stored}x{stored}, smaller than the network's "
                        f"{mcfg.input_size}x{mcfg.input_size} input")
    model = AlexNet(mcfg, rng=np.random.default_rng(s.seed), fast=s.fast)
    optimizer = make_optimizer(model.params, s.fast, lr=s.lr, momentum=s.momentum,
                               weight_decay=s.weight_decay)
    schedule = make_schedule(s.schedule, s.lr, s.epochs)
    data_rng = np.random.default_rng([s.seed, 1])
    start_epoch, step, best_top1 = 0, 0, math.inf

    if resume_state is not None:
        params, velocity, meta, _ = resume_state
        model.load_params(params)
        optimizer.velocity = {k: velocity[k].copy() for k in optimizer.velocity}
        optimizer.lr = meta["lr"]
        schedule.load_state_dict(meta["schedule"])
        set_rng_state(data_rng, meta["rng"]["data"])
        set_rng_state(model.dropout_rng, meta["rng"]["dropout"])
        start_epoch, step, best_top1 = meta["epoch"], meta["step"], meta["best_top1_error"]
        _truncate_metrics(metrics_path, step)
        log(f"resuming {s.out} at epoch {start_epoch + 1} (step {step})")
    else:
        if os.path.exists(metrics_path):
            os.remove(metrics_path)
        log(f"training '{mcfg.name}' ({model.num_params():,} parameters) on {dataset.name} "
            f"({len(dataset.train_labels):,} train / {len(dataset.val_labels):,} val images, "
            f"{len(dataset.classes)} classes) for {s.epochs} epochs on {s.device}")

    stepper = make_stepper(model, optimizer, s.device, seed=s.seed, start_step=step)
    runlog = RunLog(metrics_path)
    meta_common = {
        "model": config_to_dict(mcfg),
        "settings": {k: v for k, v in dataclasses.asdict(s).items()},
        "classes": list(dataset.classes),
        "data": {"name": dataset.name, "source": dataset.source,
                 "image_size": int(dataset.train_images.shape[1])},
    }

    def checkpoint_meta(epoch, val):
        return {**meta_common, "epoch": epoch, "step": step, "lr": optimizer.lr,
                "schedule": schedule.state_dict(), "best_top1_error": best_top1,
                "rng": {"data": rng_state(data_rng), "dropout": rng_state(model.dropout_rng)},
                "metrics": val}

    summary = {"run_dir": s.out, "epochs_completed": start_epoch, "step": step}
    scale = mcfg.input_scale
    for epoch in range(start_epoch, s.epochs):
        if s.max_steps and step >= s.max_steps:
            break
        t0 = time.perf_counter()
        loader = BatchLoader(dataset, split="train", batch_size=s.batch_size,
                             crop_size=mcfg.input_size, train=True, rng=data_rng,
                             flip=s.flip, random_crop=s.random_crop, pca_color=s.pca_color,
                             scale=scale, drop_last=True, shuffle=True, prefetch=True)
        n_batches = len(loader)
        if s.max_steps:
            n_batches = min(n_batches, s.max_steps - step)
        bar = Progress(n_batches, f"epoch {epoch + 1}/{s.epochs}", unit="batch",
                       enabled=s.progress, rate_unit="img/s", rate_scale=s.batch_size)
        losses = []
        for x, y in loader:
            loss = stepper.train_step(x, y)
            step += 1
            if not math.isfinite(loss):
                bar.close()
                runlog.write({"type": "step", "step": step, "epoch": epoch + 1,
                              "loss": str(loss), "lr": optimizer.lr})
                kept = (f"the last good checkpoint is {last_path}" if os.path.exists(last_path)
                        else "no checkpoint was written yet")
                raise TrainingDiverged(
                    f"the loss became {loss} at step {step} (epoch {epoch + 1}); training "
                    f"stopped. Try a lower learning rate, e.g. --lr {optimizer.lr / 10:g}; "
                    f"{kept}")
            losses.append(loss)
            bar.update(1, loss=float(np.mean(losses[-20:])), lr=optimizer.lr)
            if step % s.log_every == 0:
                runlog.write({"type": "step", "step": step, "epoch": epoch + 1, "loss": loss,
                              "lr": optimizer.lr})
            if s.max_steps and step >= s.max_steps:
                break
        bar.close()
        if hasattr(loader, "close"):
            loader.close()

        val = evaluate(stepper, dataset, batch_size=max(s.batch_size, 64), scale=scale)
        train_loss = float(np.mean(losses)) if losses else float("nan")
        improved = val["top1_error"] < best_top1
        best_top1 = min(best_top1, val["top1_error"])
        lr_used = optimizer.lr
        optimizer.lr = schedule.step(val["top1_error"])
        record = {"type": "epoch", "step": step, "epoch": epoch + 1, "loss": train_loss,
                  "lr": lr_used, "val_top1_error": val["top1_error"],
                  "val_top5_error": val["top5_error"], "val_loss": val["loss"],
                  "time_s": round(time.perf_counter() - t0, 3)}
        runlog.write(record)
        stepper.sync_to_host()
        meta = checkpoint_meta(epoch + 1, record)
        save_checkpoint(last_path, model.params, meta, optimizer.velocity,
                        dataset.mean_image)
        if improved:
            save_checkpoint(best_path, model.params, meta, None, dataset.mean_image)
        log(f"epoch {epoch + 1}/{s.epochs}: train loss {train_loss:.4f}, val top-1 error "
            f"{val['top1_error']:.2%}, top-5 error {val['top5_error']:.2%} "
            f"({time.perf_counter() - t0:.1f} s){' *best*' if improved else ''}")
        if optimizer.lr != lr_used:
            log(f"learning rate {lr_used:g} -> {optimizer.lr:g}")
        summary.update(epochs_completed=epoch + 1, step=step, final=record,
                       best_top1_error=best_top1)
        try:
            from .tools.plots import plot_curves  # matplotlib: imported when first needed
            plot_curves(s.out)
        except Exception as err:  # a plot must never cost a training run
            log(f"(could not draw curves.png: {err})")
    return summary


def load_for_inference(checkpoint, device="cpu", fast=False):
    """Model, stepper, checkpoint meta and mean image from a checkpoint file.

    The model is built from the NumPy reference layers, or with ``fast=True`` (what the
    ``evaluate``, ``predict`` and ``visualize`` commands pass) from their Numba twins.
    """
    params, _, meta, mean_image = load_checkpoint(checkpoint)
    cfg = config_from_dict(meta["model"])
    model = AlexNet(cfg, rng=np.random.default_rng(0), fast=fast)
    model.load_params(params)
    optimizer = SGD(model.params)
    return model, make_stepper(model, optimizer, device), meta, mean_image
