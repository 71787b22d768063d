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

from .checkpoint import (
    RunLog,
    _truncate_metrics,
    check_arrays,
    check_mean_image,
    check_meta,
    load_checkpoint,
    read_meta,
    save_checkpoint,
)
from .data import BatchLoader, load_dataset
from .data import ten_crop as ten_crop_views
from .errors import UserError
from .fileio import RunLock, remove_quietly, tmp_name, write_error
from .layers import Dropout, softmax
from .model import AlexNet, config_from_dict, config_to_dict, get_config
from .optim import SGD, make_schedule
from .tools.progress import Progress


@dataclass
class TrainSettings:
    """One training run. Model switches (dropout, LRN, ...) go to ``model_overrides``."""

    data: str = "synthetic"  # "synthetic" or a path to an image folder or CIFAR-10 folder
    arch: str = "cifar"  # a preset from model.PRESETS
    epochs: int = 20  # the default run: about 3 minutes on two cores (docs/training.md)
    batch_size: int = 64  # the paper: 128
    lr: float = 0.02  # the paper starts at 0.01; the small default run needs fewer steps
    #                   (`train` gives some presets their own lr, warm-up: PRESET_TRAINING)
    momentum: float = 0.9
    weight_decay: float = 0.0005
    schedule: str = "plateau"  # plateau (the paper), step, cosine
    warmup_steps: int = 10  # linear lr warm-up over the first steps, at most one epoch (Warmup)
    dropout_ramp_steps: int = 80  # dropout p rises linearly from 0 over these steps (one epoch
    #                                at most; 0 = the config's p from the first step, the paper)
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


# A preset's own training defaults, where they differ from TrainSettings' (one place, few
# entries). The `train` and `visualize health` commands use them for the fields the user did
# not give; explicit flags win, and a resumed run keeps its own. `micro`: lr 0.04 without
# warm-up leaves ln(10) within 30 steps where the shared 0.02 with 10 warm-up steps does not
# (docs/training.md, "Why micro waited").
PRESET_TRAINING = {
    "micro": {"lr": 0.04, "warmup_steps": 0},
}


def preset_training(arch):
    """The TrainSettings fields preset ``arch`` sets for itself ({} for most presets)."""
    return dict(PRESET_TRAINING.get(arch, {}))


def preset_settings(arch=TrainSettings.arch, **fields):
    """TrainSettings for ``arch``: ``fields`` first, then the preset's own training defaults
    (:data:`PRESET_TRAINING`), then TrainSettings' defaults. ``TrainSettings(...)`` itself
    does not look at the preset."""
    return TrainSettings(**{**preset_training(arch), **fields, "arch": arch})


def warmup_steps(settings, dataset):
    """The warm-up length: ``settings.warmup_steps``, but never longer than the first epoch."""
    per_epoch = max(1, len(dataset.train_labels) // settings.batch_size)
    return min(settings.warmup_steps, per_epoch)


def dropout_ramp(settings, dataset):
    """The dropout ramp length: ``settings.dropout_ramp_steps``, at most the first epoch."""
    per_epoch = max(1, len(dataset.train_labels) // settings.batch_size)
    return min(settings.dropout_ramp_steps, per_epoch)


def set_dropout(model, step, ramp):
    """Dropout rate for 0-based step ``step``: ``p * min(1, step / ramp)`` (the config's p
    from the start when ``ramp`` is 0). Not in the paper: at the start dropout only adds noise
    to features that carry no class yet; docs/training.md shows the plateau it lengthens."""
    p = model.cfg.dropout * (min(1.0, step / ramp) if ramp > 0 else 1.0)
    for _, layer in model.layers:
        if isinstance(layer, Dropout):
            layer.p = p


CALIBRATION_IMAGES = 256


def calibrate_from_data(model, dataset, log=None):
    """``AlexNet.calibrate_init`` on the first ``CALIBRATION_IMAGES`` training images (centre
    crop, no augmentation, stored order: the data order of the run is not touched), when the
    configuration asks for it (``init_calibrate`` with the "kaiming" init). Fresh runs only."""
    cfg = model.cfg
    if cfg.init != "kaiming" or not cfg.init_calibrate:
        return False
    loader = BatchLoader(dataset, split="train", batch_size=CALIBRATION_IMAGES,
                         crop_size=cfg.input_size, train=False, scale=cfg.input_scale,
                         prefetch=False)
    x, _ = next(iter(loader))
    model.calibrate_init(x)
    if log is not None:
        log(f"init: Kaiming, calibrated on {len(x)} training images (init_calibrate)")
    return True


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


# Settings a resumed run may change; every other field defines the run and must match the
# checkpoint's (train refuses a conflict with one line).
CHANGEABLE_ON_RESUME = ("epochs", "lr", "max_steps", "log_every", "progress", "out", "resume",
                        "device", "cache_dir", "fast")

# The command-line flag of a settings field, where it is not --field-name.
FLAGS = {"synthetic_train": "--train-size", "synthetic_val": "--val-size", "flip": "--no-flip",
         "random_crop": "--no-crop", "pca_color": "--no-pca", "progress": "--quiet",
         "fast": "--reference-layers", "model_overrides": "the model switches",
         "dropout_ramp_steps": "--dropout-ramp", "warmup_steps": "--warmup"}


def flag(name):
    return FLAGS.get(name, "--" + name.replace("_", "-"))


def _is_int(x):
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


def check_settings(s):
    """Refuse settings that cannot run, before any data is loaded or folder made."""
    def need(ok, name, what, value):
        if not ok:
            raise UserError(f"{flag(name)} must be {what}, got {value!r}")

    need(_is_int(s.epochs) and s.epochs >= 1, "epochs", "an integer of at least 1", s.epochs)
    need(_is_int(s.batch_size) and s.batch_size >= 1, "batch_size", "an integer of at least 1",
         s.batch_size)
    for name in ("lr", "momentum", "weight_decay"):
        value = getattr(s, name)
        need(isinstance(value, (int, float)) and math.isfinite(value), name, "a finite number",
             value)
    need(s.lr > 0, "lr", "positive (e.g. 0.01)", s.lr)
    need(0 <= s.momentum < 1, "momentum", "in [0, 1)", s.momentum)
    need(s.weight_decay >= 0, "weight_decay", "at least 0", s.weight_decay)
    need(_is_int(s.seed) and 0 <= s.seed < 2**63, "seed", "an integer from 0 to 2**63-1",
         s.seed)
    need(_is_int(s.max_steps) and s.max_steps >= 0, "max_steps", "0 (no limit) or positive",
         s.max_steps)
    need(_is_int(s.dropout_ramp_steps) and s.dropout_ramp_steps >= 0, "dropout_ramp_steps",
         "0 (none) or positive", s.dropout_ramp_steps)
    need(_is_int(s.log_every) and s.log_every >= 1, "log_every", "at least 1", s.log_every)
    for name in ("synthetic_train", "synthetic_val"):
        need(_is_int(getattr(s, name)) and getattr(s, name) >= 1, name, "at least 1",
             getattr(s, name))
    if s.device not in ("cpu", "cuda"):
        raise UserError(f"unknown device '{s.device}'; choose cpu or cuda")
    if s.device == "cuda":  # before any data is loaded or folder made
        from .cuda import require_gpu  # CUDA (numba-cuda) only when asked for
        require_gpu()


def prepare_run_folder(out):
    """Make the run folder and check that it is writable, before any training."""
    if os.path.exists(out) and not os.path.isdir(out):
        raise UserError(f"--out {out} is a file; choose a folder for the run")
    try:
        os.makedirs(out, exist_ok=True)
        probe = tmp_name(os.path.join(out, ".write-test"))
        with open(probe, "wb") as f:
            f.write(b"ok")
        os.remove(probe)
    except OSError as err:
        raise write_error(err, out, "into the run folder") from None


def remove_stale_temps(out):
    """Delete temporary files of earlier, killed runs (the caller holds the folder's lock)."""
    for name in os.listdir(out):
        if ".tmp-" in name or name.endswith(".npz.tmp"):
            remove_quietly(os.path.join(out, name))


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
    best_epoch: int = 0  # the epoch that reached it
    batches_done: int = 0  # batches of epoch `epoch + 1` already taken (a --max-steps cut)
    epoch_losses: list = dataclasses.field(default_factory=list)  # and their losses
    epoch_rng: dict = None  # data_rng's state when epoch `epoch + 1` began

    @property
    def last_path(self):
        return os.path.join(self.settings.out, "last.npz")

    @property
    def best_path(self):
        return os.path.join(self.settings.out, "best.npz")

    @property
    def metrics_path(self):
        return os.path.join(self.settings.out, "metrics.jsonl")


def settings_on_resume(s, saved, path, log):
    """The settings a resumed run continues with: the checkpoint's own, with the changeable
    fields (CHANGEABLE_ON_RESUME) from ``s``. A different value of any other field in ``s``
    is refused; the changes are logged."""
    names = [f.name for f in dataclasses.fields(TrainSettings)]
    try:
        base = TrainSettings(**{k: v for k, v in saved.items() if k in names})
    except TypeError as err:
        raise UserError(f"checkpoint '{path}' has damaged settings ({err})") from None
    conflicts = [f"{flag(k)} {getattr(s, k)!r} (the run has {getattr(base, k)!r})"
                 for k in names if k not in CHANGEABLE_ON_RESUME
                 and getattr(s, k) != getattr(base, k)]
    if conflicts:
        raise UserError(f"--resume: {s.out} was trained with other settings: "
                        f"{'; '.join(conflicts)}. Drop these flags to continue the run as it "
                        "was, or train into a new --out")
    new = dataclasses.replace(base, **{k: getattr(s, k) for k in CHANGEABLE_ON_RESUME})
    changes = [f"{flag(k)} {getattr(base, k):g} -> {getattr(new, k):g}"
               for k in ("epochs", "lr", "max_steps") if getattr(base, k) != getattr(new, k)]
    if changes:
        log(f"resuming with changed settings: {', '.join(changes)}")
    return new


def restore_or_start(s, dataset=None, log=print):
    """Step 1: a :class:`Run` at epoch 0, or restored from ``s.out/last.npz`` with
    ``s.resume`` (parameters, optimizer, schedule, both random generators, counters).

    Every array and metadata field of the checkpoint is checked against the model before
    use; a damaged checkpoint is one UserError.
    """
    last_path = os.path.join(s.out, "last.npz")
    checkpoint = None
    if s.resume:
        if not os.path.exists(last_path):
            raise UserError(f"--resume: no checkpoint at {last_path}; start without --resume")
        checkpoint = load_checkpoint(last_path)
        check_meta(last_path, checkpoint[2], resume=True)
        if not checkpoint[1]:
            raise UserError(f"--resume: {last_path} holds no optimizer state (a best.npz "
                            "copied over last.npz?); it can be evaluated but not continued")
        s = settings_on_resume(s, checkpoint[2]["settings"], last_path, log)
        check_settings(s)
    elif os.path.exists(last_path):
        raise UserError(f"{s.out} already holds a run (last.npz); pass --resume to continue it "
                        "or --out NEW_FOLDER to start another")

    probe = get_config(s.arch, **s.model_overrides)
    if dataset is None:
        dataset = load_data(s.data, probe.image_size, seed=s.seed,
                            synthetic_train=s.synthetic_train, synthetic_val=s.synthetic_val,
                            cache_dir=s.cache_dir, verbose=s.progress)
    if checkpoint is not None:
        mcfg = model_config(last_path, checkpoint[2])
        if mcfg.num_classes != len(dataset.classes):
            raise UserError(f"{last_path} has {mcfg.num_classes} classes but the data has "
                            f"{len(dataset.classes)}; resume with the run's own data")
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
              schedule=make_schedule(s.schedule, s.lr, s.epochs,
                                     warmup_steps=warmup_steps(s, dataset)),
              data_rng=np.random.default_rng([s.seed, 1]), log=log)
    if checkpoint is not None:
        restore(run, checkpoint, last_path)
        log(f"resuming {s.out} at epoch {run.epoch + 1} (step {run.step})")
    else:
        if os.path.exists(run.metrics_path):
            os.remove(run.metrics_path)
        log(f"training '{mcfg.name}' ({model.num_params():,} parameters) on {dataset.name} "
            f"({len(dataset.train_labels):,} train / {len(dataset.val_labels):,} val images, "
            f"{len(dataset.classes)} classes) for {s.epochs} epochs on {s.device}")
        calibrate_from_data(model, dataset, log if s.progress else None)
    run.stepper = make_stepper(model, run.optimizer, s.device, seed=s.seed, start_step=run.step)
    if s.device == "cuda":  # the simulator: say how long validation will take
        from .cuda.common import simulator_note
        note = simulator_note(len(dataset.val_labels), mcfg.name)
        if note:
            log(note)
    return run


def model_config(path, meta):
    """The model configuration of a checkpoint, checked (one UserError if damaged)."""
    try:
        cfg = config_from_dict(meta["model"])
        counts = [cfg.num_classes, cfg.image_size, cfg.input_size, cfg.in_channels,
                  *cfg.channels, *cfg.kernel_sizes, *cfg.strides, *cfg.hidden]
        if not all(_is_int(c) and c >= 1 for c in counts) or not all(
                _is_int(p) and p >= 0 for p in cfg.paddings):
            raise ValueError("sizes must be positive integers")
        if len(cfg.channels) != 5 or len(cfg.hidden) != 2:
            raise ValueError("five conv layers and two hidden layers expected")
    except (TypeError, ValueError) as err:
        raise UserError(f"checkpoint '{path}' has a damaged model configuration ({err}); "
                        "use another checkpoint") from None
    return cfg


def restore(run, checkpoint, path):
    """Load a checkpoint's state into ``run`` (arrays checked against the model first)."""
    params, velocity, meta, mean_image = checkpoint
    s, model = run.settings, run.model
    check_arrays(path, model.params, params, "parameter")
    check_arrays(path, model.params, velocity, "velocity")
    try:
        model.load_params(params)
        run.optimizer.load_state_dict({**optimizer_meta(meta, s), "velocity": velocity})
        run.schedule.load_state_dict(meta["schedule"])
        set_rng_state(run.data_rng, meta["rng"]["data"])
        set_rng_state(model.dropout_rng, meta["rng"]["dropout"])
    except (KeyError, TypeError, ValueError) as err:
        raise UserError(f"checkpoint '{path}' has damaged training state "
                        f"({type(err).__name__}: {err}); resume from another run") from None
    run.epoch, run.step = meta["epoch"], meta["step"]
    run.best_top1 = float(meta["best_top1_error"])
    run.best_epoch = int(meta.get("best_epoch", run.epoch if _last_is_best(meta) else 0))
    run.batches_done = int(meta.get("batches_done", 0))
    run.epoch_losses = [float(x) for x in meta.get("epoch_losses", [])]
    saved_lr = float(meta["settings"].get("lr", s.lr))
    if s.lr != saved_lr:  # --lr on resume: the new rate from now on
        run.optimizer.lr = run.schedule.lr = s.lr
        if hasattr(run.schedule, "base_lr"):
            run.schedule.base_lr = s.lr
        run.log(f"learning rate set to {s.lr:g} (--lr; the run was at "
                f"{optimizer_meta(meta, s)['lr']:g})")
    _truncate_metrics(run.metrics_path, run.step)
    recover_best(run, params, meta, mean_image)


def _last_is_best(meta):
    """Older checkpoints have no best_epoch: last.npz is the best if its error is the best."""
    err = (meta.get("metrics") or {}).get("val_top1_error")
    return err is not None and err == meta.get("best_top1_error")


def recover_best(run, params, meta, mean_image):
    """Rewrite best.npz from last.npz if last.npz is the best epoch and best.npz is missing,
    unreadable or older (a run killed between the two saves of an older version)."""
    if run.batches_done or run.best_epoch != run.epoch or not math.isfinite(run.best_top1):
        return
    try:
        best_epoch = read_meta(run.best_path).get("epoch") if os.path.exists(
            run.best_path) else None
    except UserError:
        best_epoch = None
    if isinstance(best_epoch, int) and best_epoch >= run.epoch:
        return
    save_checkpoint(run.best_path, params, {k: v for k, v in meta.items() if k != "format"},
                    None, mean_image)
    run.log(f"best.npz was missing or older than last.npz, which holds the best epoch "
            f"({run.epoch}); rewrote {run.best_path}")


def optimizer_meta(meta, s):
    """The optimizer's scalar state from checkpoint metadata (older files: lr only)."""
    return meta.get("optimizer") or {"lr": meta["lr"], "momentum": s.momentum,
                                     "weight_decay": s.weight_decay}


def train_one_epoch(run):
    """Step 2: one pass over the shuffled, augmented training split, or up to
    ``max_steps``. Returns True if the epoch is complete, False if ``max_steps`` cut it
    (``run.batches_done`` batches taken; a resume takes the rest of the same epoch).

    The loss of each step goes to ``run.epoch_losses``. Raises TrainingDiverged on a NaN or
    infinite loss."""
    s, cfg = run.settings, run.model.cfg
    run.epoch_rng = rng_state(run.data_rng)  # a cut epoch is replayed from here
    loader = BatchLoader(run.dataset, split="train", batch_size=s.batch_size,
                         crop_size=cfg.input_size, train=True, rng=run.data_rng,
                         flip=s.flip, random_crop=s.random_crop, pca_color=s.pca_color,
                         scale=cfg.input_scale, drop_last=True, shuffle=True, prefetch=True)
    n_batches = len(loader) - run.batches_done
    if s.max_steps:
        n_batches = min(n_batches, s.max_steps - run.step)
    bar = Progress(n_batches, f"epoch {run.epoch + 1}/{s.epochs}", unit="batch",
                   enabled=s.progress, rate_unit="img/s", rate_scale=s.batch_size)
    runlog = RunLog(run.metrics_path)
    losses = run.epoch_losses
    batches = loader.batches(start=run.batches_done)
    ramp = dropout_ramp(s, run.dataset)
    try:
        for x, y in batches:
            run.optimizer.lr = run.schedule.lr_at(run.step)  # the schedule's, less in warm-up
            if run.step <= ramp:
                set_dropout(run.model, run.step, ramp)
            loss = run.stepper.train_step(x, y)
            run.step += 1
            run.batches_done += 1
            if not math.isfinite(loss):
                runlog.write({"type": "step", "step": run.step, "epoch": run.epoch + 1,
                              "loss": str(loss), "lr": run.optimizer.lr})
                raise diverged(run, f"the loss became {loss} at step {run.step}")
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
    return run.batches_done == len(loader)


def diverged(run, what):
    """TrainingDiverged with advice that works: a lower --lr, from the last good epoch."""
    lower = f"{run.optimizer.lr / 10:g}"
    if os.path.exists(run.last_path):
        how = (f"the last good checkpoint is {run.last_path}; continue from it with "
               f"--resume --lr {lower}")
    else:
        how = f"no checkpoint was written yet; start again with --lr {lower}"
    return TrainingDiverged(f"{what} (epoch {run.epoch + 1}); training stopped. Try a lower "
                            f"learning rate: {how}")


def validate(run):
    """Step 3: top-1/top-5 error and loss on the validation split (centre crops)."""
    return evaluate(run.stepper, run.dataset, batch_size=max(run.settings.batch_size, 64),
                    scale=run.model.cfg.input_scale)


def save(run, record):
    """Step 4: write best.npz (if this epoch is the best) and then last.npz, atomically.

    best.npz goes first: a run killed between the two saves redoes the epoch on resume and
    writes both again. A cut epoch (``record`` None) saves last.npz only, with the data
    generator's state at the start of the epoch and the number of batches taken.
    """
    state = run.optimizer.state_dict()
    cut = record is None
    meta = {
        "model": config_to_dict(run.model.cfg),
        "settings": dataclasses.asdict(run.settings),
        "classes": list(run.dataset.classes),
        "data": {"name": run.dataset.name, "source": run.dataset.source,
                 "image_size": int(run.dataset.train_images.shape[1])},
        "epoch": run.epoch, "step": run.step, "lr": run.optimizer.lr,
        "optimizer": {k: state[k] for k in ("lr", "momentum", "weight_decay")},
        "schedule": run.schedule.state_dict(), "best_top1_error": run.best_top1,
        "best_epoch": run.best_epoch,
        "rng": {"data": run.epoch_rng if cut else rng_state(run.data_rng),
                "dropout": rng_state(run.model.dropout_rng)},
        "batches_done": run.batches_done if cut else 0,
        "epoch_losses": run.epoch_losses if cut else [],
        "metrics": record,
    }
    if not cut and run.best_epoch == run.epoch:
        save_checkpoint(run.best_path, run.model.params, meta, None, run.dataset.mean_image)
    save_checkpoint(run.last_path, run.model.params, meta, state["velocity"],
                    run.dataset.mean_image)


def check_finite(run, val=None):
    """TrainingDiverged if a parameter (or the validation loss) is NaN or infinite: such an
    epoch is never saved, so last.npz stays the last good one."""
    if val is not None and not math.isfinite(val["loss"]):
        raise diverged(run, f"the validation loss became {val['loss']}")
    bad = [k for k, v in run.model.params.items() if not np.all(np.isfinite(v))]
    if bad:
        raise diverged(run, f"parameter {bad[0]} holds NaN or infinite values")


def train(settings, dataset=None, log=print, on_epoch_end=None):
    """Run one training job. Returns a summary dict (final and best validation errors...).

    ``dataset`` (optional) is an already loaded ``alexnet_np.data`` Dataset; otherwise it is
    loaded from ``settings.data``. ``log`` receives one-line messages. ``on_epoch_end(run,
    record)``, if given, is called after each epoch is saved, with the :class:`Run` (its
    model and stepper hold the epoch's parameters) and the epoch's metrics record.

    The steps, each a function above: :func:`restore_or_start`, then per epoch
    :func:`train_one_epoch`, :func:`validate`, the schedule, :func:`save`. The run folder
    is locked for the whole run (one training process per folder).
    """
    check_settings(settings)
    prepare_run_folder(settings.out)
    with RunLock(settings.out), np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        remove_stale_temps(settings.out)
        run = restore_or_start(settings, dataset, log)
        return run_epochs(run, on_epoch_end)


def run_epochs(run, on_epoch_end=None):
    """The epoch loop of :func:`train`: train, validate, schedule, save, report."""
    s, log = run.settings, run.log
    summary = {"run_dir": s.out, "epochs_completed": run.epoch, "step": run.step,
               "best_top1_error": run.best_top1}
    while run.epoch < s.epochs:
        if s.max_steps and run.step >= s.max_steps:
            break
        t0 = time.perf_counter()
        complete = train_one_epoch(run)
        run.stepper.sync_to_host()
        if not complete:  # --max-steps inside the epoch: save the point, not an epoch
            check_finite(run)
            save(run, None)
            summary.update(step=run.step, stopped_in_epoch=run.epoch + 1,
                           batches_done=run.batches_done)
            break
        val = validate(run)
        check_finite(run, val)
        losses = run.epoch_losses
        train_loss = float(np.mean(losses)) if losses else float("nan")
        improved = val["top1_error"] < run.best_top1
        lr_used = run.optimizer.lr
        run.optimizer.lr = run.schedule.step(val["top1_error"])
        run.epoch += 1
        run.batches_done, run.epoch_losses = 0, []
        if improved:
            run.best_top1, run.best_epoch = val["top1_error"], run.epoch
        record = {"type": "epoch", "step": run.step, "epoch": run.epoch, "loss": train_loss,
                  "lr": lr_used, "val_top1_error": val["top1_error"],
                  "val_top5_error": val["top5_error"], "val_loss": val["loss"],
                  "time_s": round(time.perf_counter() - t0, 3)}
        RunLog(run.metrics_path).write(record)  # before the save: a resume drops it again
        save(run, record)
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
        from .tools.plots import plot_curves  # matplotlib: imported when first needed
        plot_curves(run_dir)
    except Exception as err:  # a plot must never cost a training run
        log(f"(could not draw curves.png: {err})")


def load_for_inference(checkpoint, device="cpu", fast=False):
    """Model, stepper, checkpoint meta and mean image from a checkpoint file (every array
    and the metadata it needs checked first: one UserError if damaged).

    The model is built from the NumPy reference layers, or with ``fast=True`` (what the
    ``evaluate``, ``predict`` and ``visualize`` commands pass) from their Numba twins.
    """
    params, _, meta, mean_image = load_checkpoint(checkpoint)
    check_meta(checkpoint, meta)
    cfg = model_config(checkpoint, meta)
    if len(meta["classes"]) != cfg.num_classes:
        raise UserError(f"checkpoint '{checkpoint}' names {len(meta['classes'])} classes for "
                        f"a {cfg.num_classes}-way model; it is damaged")
    model = AlexNet(cfg, rng=np.random.default_rng(0), fast=fast)
    check_arrays(checkpoint, model.params, params, "parameter")
    check_mean_image(checkpoint, mean_image, meta["data"]["image_size"])
    model.load_params(params)
    optimizer = SGD(model.params)
    return model, make_stepper(model, optimizer, device), meta, mean_image
