"""Training health: per-layer statistics over the first steps of a run, and their plot.

A deep net without normalisation that "does not learn" (the loss sits at ln(num_classes))
usually shows why in four numbers per layer, the plots a practitioner looks at first:

- activation mean and standard deviation of each non-linearity's output (relu1..relu7) and
  of the logits (fc8): a std that shrinks layer by layer means the signal dies on the way up;
- the fraction of dead units: a ReLU unit (one channel at one position, or one fc neuron)
  whose output is 0 for every image of the batch passes no gradient at all (for tanh: the
  fraction of saturated units, |tanh| > 0.99);
- the standard deviation of each weight gradient dL/dW;
- the update/weight ratio ||W_after - W_before|| / ||W_before|| of each SGD step: about 1e-3
  is the usual healthy figure; far below, the layer is frozen; far above, it is being
  re-drawn every step.

:func:`health_run` trains its own copy of the network for ``steps`` SGD steps with the same
recipe as :func:`alexnet_np.train.train` for the same :class:`~alexnet_np.train.TrainSettings`
(same model, init, SGD, warm-up, augmentation and data order), walking the layers one by one
so that every output can be measured. It does not touch ``train()``; it writes no checkpoint.
"""

import json
import math
import os

import numpy as np

from ..data import BatchLoader
from ..model import AlexNet
from ..optim import make_schedule
from ..train import (
    build_from_settings,
    calibrate_from_data,
    dropout_ramp,
    load_data,
    make_optimizer,
    set_dropout,
    warmup_steps,
)

QUANTITIES = [  # (key, title, log scale)
    ("act_mean", "activation mean", False),
    ("act_std", "activation std", True),
    ("dead", "dead ReLUs (tanh: saturated units)", False),
    ("grad_std", "gradient std of W", True),
    ("update_ratio", "update / weight ratio ||dW|| / ||W||", True),
]


def activation_stats(out, activation="relu"):
    """Mean, std and dead (or saturated) fraction of one layer's output ``(N, ...)``.

    A unit is one entry of ``out[0]`` (channel and position, or neuron); it is dead when it is
    0 for every image of the batch (ReLU) or saturated when |out| > 0.99 on average (tanh).
    """
    o = out.astype(np.float64)
    if activation == "relu":
        dead = float(np.mean(np.all(o <= 0, axis=0)))
    else:
        dead = float(np.mean(np.abs(o).mean(axis=0) > 0.99))
    return float(o.mean()), float(o.std()), dead


def health_step(model, optimizer, x, y):
    """One training step, layer by layer, measuring as it goes. Returns ``(loss, stats)``
    where ``stats[layer] = {quantity: value}`` for the activations (relu*, fc8) and the
    weights (conv*, fc*)."""
    model.train()
    stats = {}
    h = x
    for name, layer in model.layers:
        h = layer.forward(h)
        if name.startswith("relu"):
            m, sd, dead = activation_stats(h, model.cfg.activation)
            stats[name] = {"act_mean": m, "act_std": sd, "dead": dead}
        elif name == "fc8":
            stats[name] = {"act_mean": float(h.mean()), "act_std": float(h.std())}
    loss = float(model.loss_layer.forward(h, y))
    model.backward(model.loss_layer.backward())
    before = {k: v.copy() for k, v in model.params.items() if k.endswith(".W")}
    optimizer.step(model.grads)
    params, grads = model.params, model.grads
    for key, w0 in before.items():
        name = key[:-2]
        stats.setdefault(name, {}).update({
            "grad_std": float(grads[key].std()),
            "update_ratio": float(np.linalg.norm(params[key] - w0)
                                  / max(float(np.linalg.norm(w0)), 1e-30)),
        })
    return loss, stats


def health_run(settings, steps=200, dataset=None, log=print):
    """Train ``steps`` SGD steps with ``settings``' recipe and record the health statistics.

    Returns a dict ``{"settings": ..., "steps": [...], "loss": [...], "lr": [...],
    "layers": {layer: {quantity: [value per step]}}}`` (JSON-friendly).
    """
    s = settings
    if dataset is None:
        probe = build_from_settings(s, 10)
        dataset = load_data(s.data, probe.image_size, seed=s.seed,
                            synthetic_train=s.synthetic_train, synthetic_val=s.synthetic_val,
                            cache_dir=s.cache_dir, verbose=s.progress)
    cfg = build_from_settings(s, len(dataset.classes))
    model = AlexNet(cfg, rng=np.random.default_rng(s.seed), fast=s.fast)
    calibrate_from_data(model, dataset)
    ramp = dropout_ramp(s, dataset)
    optimizer = make_optimizer(model.params, s.fast, lr=s.lr, momentum=s.momentum,
                               weight_decay=s.weight_decay)
    schedule = make_schedule(s.schedule, s.lr, s.epochs, warmup_steps=warmup_steps(s, dataset))
    data_rng = np.random.default_rng([s.seed, 1])  # the same stream as train()
    record = {"arch": cfg.name, "init": cfg.init, "input_scale": cfg.input_scale,
              "activation": cfg.activation, "lr": s.lr, "warmup_steps": s.warmup_steps,
              "init_calibrate": bool(cfg.init_calibrate and cfg.init == "kaiming"),
              "dropout_ramp_steps": ramp,
              "batch_size": s.batch_size, "data": dataset.name,
              "steps": [], "loss": [], "lr_used": [], "batch_error": [], "layers": {}}
    step = 0
    while step < steps:
        loader = BatchLoader(dataset, split="train", batch_size=s.batch_size,
                             crop_size=cfg.input_size, train=True, rng=data_rng, flip=s.flip,
                             random_crop=s.random_crop, pca_color=s.pca_color,
                             scale=cfg.input_scale, drop_last=True, shuffle=True,
                             prefetch=False)
        for x, y in loader:
            optimizer.lr = schedule.lr_at(step)
            if step <= ramp:
                set_dropout(model, step, ramp)
            loss, stats = health_step(model, optimizer, x, y)
            step += 1
            record["steps"].append(step)
            record["loss"].append(loss)
            record["lr_used"].append(optimizer.lr)
            for name, qs in stats.items():
                layer = record["layers"].setdefault(name, {})
                for q, v in qs.items():
                    layer.setdefault(q, []).append(v)
            if not math.isfinite(loss):
                log(f"the loss became {loss} at step {step}; stopped")
                return record
            if step % 50 == 0 or step == steps:
                log(f"step {step}/{steps}: loss {np.mean(record['loss'][-20:]):.3f}")
            if step >= steps:
                break
    return record


def plateau_steps(losses, num_classes=10, tol=0.05, window=10):
    """Steps spent before the loss leaves chance level: the first step ``i`` (0-based) at
    which the mean of the last ``window`` losses is below ln(num_classes) - ``tol``
    (``len(losses)`` if that never happens). The resolution is ``window`` steps."""
    target = math.log(num_classes) - tol
    for i in range(window - 1, len(losses)):
        if np.mean(losses[i - window + 1:i + 1]) < target:
            return i
    return len(losses)


def summarize(record, first=10):
    """Text lines: the loss plateau and, per layer, the quantities early and at the end."""
    losses = record["loss"]
    n = len(losses)
    ln10 = math.log(10)
    calibrated = ", calibrated" if record.get("init_calibrate") else ""
    lines = [f"{record['arch']} (init {record['init']}{calibrated}, input scale "
             f"{record['input_scale']:g}, {record['activation']}), lr {record['lr']:g}, warm-up "
             f"{record['warmup_steps']} steps, dropout ramp {record.get('dropout_ramp_steps', 0)}"
             f" steps, batch {record['batch_size']}, {record['data']} data: {n} steps",
             f"loss: first {first} steps {np.mean(losses[:first]):.3f}, last {first} "
             f"{np.mean(losses[-first:]):.3f} (ln 10 = {ln10:.3f}); steps within 0.05 of "
             f"ln 10 or above before it falls: {plateau_steps(losses)}"]
    lines.append(f"{'layer':<7}{'act std':>18}{'dead':>16}{'grad std':>22}"
                 f"{'update/weight':>22}")
    def fmt(qs, q, spec):
        v = qs.get(q)
        if not v:
            return "-"
        return f"{format(np.mean(v[:first]), spec)} -> {format(np.mean(v[-first:]), spec)}"

    for name, qs in record["layers"].items():
        lines.append(f"{name:<7}{fmt(qs, 'act_std', '.3g'):>18}{fmt(qs, 'dead', '.2f'):>16}"
                     f"{fmt(qs, 'grad_std', '.2e'):>22}{fmt(qs, 'update_ratio', '.2e'):>22}")
    return lines


def health_figure(record, out, title=None):
    """One PNG: the loss, then one panel per quantity with one line per layer."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = record["steps"]
    fig, axes = plt.subplots(2, 3, figsize=(15, 8))
    axes = axes.ravel()
    ax = axes[0]
    ax.plot(steps, record["loss"], lw=0.8, label="batch loss")
    ax.axhline(math.log(10), color="gray", ls=":", label="ln 10 (chance)")
    ax.set(title="training loss", xlabel="step")
    ax.legend(fontsize=8)
    cmap = plt.get_cmap("viridis")
    names = list(record["layers"])
    for ax, (q, label, log) in zip(axes[1:], QUANTITIES, strict=True):
        for i, name in enumerate(names):
            values = record["layers"][name].get(q)
            if values:
                v = np.asarray(values, dtype=np.float64)
                if log:
                    v = np.where(v > 0, v, np.nan)
                depth = int(name[-1]) if name[-1].isdigit() else i  # relu3 and conv3 alike
                ax.plot(steps, v, lw=1, color=cmap((depth - 1) / 7), label=name)
        ax.set(title=label, xlabel="step")
        if log:
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend(fontsize=7, ncol=2)
    calibrated = " (calibrated)" if record.get("init_calibrate") else ""
    fig.suptitle(title or f"training health: {record['arch']}, init {record['init']}{calibrated}"
                 f", input scale {record['input_scale']:g}, lr {record['lr']:g}, warm-up "
                 f"{record['warmup_steps']}, dropout ramp {record.get('dropout_ramp_steps', 0)}")
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out


def write_health(record, out_png):
    """Write ``out_png`` and the numbers beside it (same name, ``.json``). Returns both."""
    health_figure(record, out_png)
    out_json = os.path.splitext(out_png)[0] + ".json"
    with open(out_json, "w") as f:
        json.dump(record, f)
    return out_png, out_json
