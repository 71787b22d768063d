"""Our training against its PyTorch twin: same files, batches, initial weights and recipe.

    pip install torch scikit-learn     # measuring sticks only, never dependencies
    python benchmarks/digits_folder.py --out data/digits
    python benchmarks/torch_twin.py --data data/digits --epochs 3 --seeds 0,1,2,3
    python benchmarks/torch_twin.py --data data/digits --check-steps 20     # implementation only
    python benchmarks/digits_folder.py --set mnist5k --out data/mnist5k   # 5,000 MNIST digits
    python benchmarks/torch_twin.py --data data/mnist5k --lr 0.005 --seeds 0,1,2,3,4,5 --threads 1
    python benchmarks/torch_twin.py --data synthetic --epochs 10 --batch-size 64 --lr 0.02 \
        --schedule constant      # the default run's data and start, in PyTorch too

For each seed both sides start from the same weights (the preset built and, for the small
presets, calibrated on training images exactly as ``alexnet-np train`` does, then copied into
PyTorch by ``alexnet_np.tools.bench.torch_model``), see the same mini-batches in the same order
(one ``BatchLoader`` feeds both; no augmentation unless ``--augment``: then both get the same
random crops and PCA colour, never flips) and follow the same recipe: batch size, learning
rate, linear warm-up, dropout ramp, and the paper's SGD on both sides (``v <- 0.9 v - 5e-4 lr w
- lr g; w <- w + v`` on every weight and bias: written out in PyTorch rather than
``torch.optim.SGD``, whose lr sits outside the velocity). The only difference left is dropout's
masks (drawn on each side); ``--check-steps N`` switches dropout off on both sides and prints
the first N losses side by side, which isolates the implementation from the recipe.

After each epoch both are evaluated on the val split (centre crop, dropout off). The summary
gives, per epoch, the mean and standard deviation over the seeds of each side's top-1 error
and of their difference. ``--data synthetic`` trains on ``alexnet-np train``'s default set.
"""

import argparse
import json
import sys
import time

import numpy as np


def paper_sgd_torch(torch, params, velocity, lr, momentum=0.9, weight_decay=5e-4):
    """The paper's update (alexnet_np.optim.SGD) on PyTorch tensors, in place."""
    with torch.no_grad():
        for w, v in zip(params, velocity, strict=True):
            v.mul_(momentum).add_(w, alpha=-weight_decay * lr).add_(w.grad, alpha=-lr)
            w.add_(v)


def run_seed(args, ds, seed, torch, log=print):
    """Train both sides for ``args.epochs`` (or ``args.check_steps`` steps); returns rows."""
    from alexnet_np.data import BatchLoader
    from alexnet_np.layers import Dropout
    from alexnet_np.model import AlexNet, get_config
    from alexnet_np.optim import make_schedule
    from alexnet_np.tools.bench import torch_model
    from alexnet_np.train import (
        NumpyStepper,
        TrainSettings,
        calibrate_from_data,
        dropout_ramp,
        evaluate,
        make_optimizer,
        set_dropout,
        warmup_steps,
    )

    check = args.check_steps > 0
    overrides = {"dropout": 0.0} if check else {}
    cfg = get_config(args.arch, num_classes=len(ds.classes), **overrides)
    model = AlexNet(cfg, rng=np.random.default_rng(seed))
    calibrate_from_data(model, ds)  # what `train` does on a fresh run
    net = torch_model(model)  # the same initial weights
    params = list(net.parameters())
    velocity = [torch.zeros_like(p) for p in params]
    ours = make_optimizer(model.params, True, lr=args.lr, momentum=0.9, weight_decay=5e-4)
    s = TrainSettings(batch_size=args.batch_size, warmup_steps=args.warmup,
                      dropout_ramp_steps=args.dropout_ramp)
    warm, ramp = warmup_steps(s, ds), dropout_ramp(s, ds)
    if args.schedule == "constant":
        schedule = make_schedule("step", args.lr, 10**9, warmup_steps=warm)
    else:  # per epoch: lr (1 + cos(pi e / epochs)) / 2 for epoch e = 0, 1, ...
        schedule = make_schedule("cosine", args.lr, args.epochs, warmup_steps=warm)
    stepper = NumpyStepper(model, ours)
    torch.manual_seed(seed)
    rng = np.random.default_rng([seed, 1])  # the training loop's data generator
    drops = [m for m in net if isinstance(m, torch.nn.Dropout)]

    def torch_top1():
        net.eval()
        wrong = 0
        with torch.no_grad():
            for x, y in BatchLoader(ds, "val", 256, cfg.input_size, train=False,
                                    scale=cfg.input_scale, prefetch=False):
                wrong += int((net(torch.from_numpy(x)).numpy().argmax(1) != y).sum())
        return wrong / len(ds.val_labels)

    rows, step, t0 = [], 0, time.time()
    for epoch in range(1, args.epochs + 1):
        net.train()
        loss_ours, loss_theirs = [], []
        for x, y in BatchLoader(ds, "train", args.batch_size, cfg.input_size, train=True,
                                rng=rng, flip=False, random_crop=args.augment,
                                pca_color=args.augment, scale=cfg.input_scale,
                                prefetch=False):
            lr = schedule.lr_at(step)
            ours.lr = lr
            if step <= ramp:
                set_dropout(model, step, ramp)
                p = next((layer.p for _, layer in model.layers if isinstance(layer, Dropout)),
                         0.0)
                for m in drops:
                    m.p = p
            loss_ours.append(stepper.train_step(x, y))
            for w in params:
                w.grad = None
            loss = torch.nn.functional.cross_entropy(net(torch.from_numpy(x)),
                                                     torch.from_numpy(y))
            loss.backward()
            paper_sgd_torch(torch, params, velocity, lr)
            loss_theirs.append(loss.item())
            step += 1
            if check:
                log(f"step {step}: loss ours {loss_ours[-1]:.6f} torch {loss_theirs[-1]:.6f} "
                    f"(difference {loss_ours[-1] - loss_theirs[-1]:+.2e})")
                if step >= args.check_steps:
                    diff = np.abs(np.subtract(loss_ours, loss_theirs))
                    log(f"first {step} steps, dropout off: largest loss difference "
                        f"{diff.max():.2e} (mean loss {np.mean(loss_ours):.4f})")
                    return [{"step": i + 1, "ours_loss": a, "torch_loss": b}
                            for i, (a, b) in enumerate(zip(loss_ours, loss_theirs, strict=True))]
        schedule.step()  # the next epoch's rate (both sides read it through lr_at)
        ev = evaluate(stepper, ds, batch_size=256, scale=cfg.input_scale)
        row = {"seed": seed, "epoch": epoch, "step": step,
               "ours_loss": float(np.mean(loss_ours)), "torch_loss": float(np.mean(loss_theirs)),
               "ours_top1": ev["top1_error"], "torch_top1": torch_top1()}
        rows.append(row)
        log(f"seed {seed} epoch {epoch}: train loss ours {row['ours_loss']:.4f} torch "
            f"{row['torch_loss']:.4f}; val top-1 error ours {row['ours_top1']:.2%} torch "
            f"{row['torch_top1']:.2%} (difference "
            f"{100 * (row['ours_top1'] - row['torch_top1']):+.1f} points; "
            f"{time.time() - t0:.0f} s)")
    return rows


def summary(rows, epochs):
    """Lines: per epoch, mean +- std over seeds of each side and of the difference, and the
    difference's standard error (std / sqrt(seeds))."""
    lines = ["epoch | ours top-1 (mean +- std) | torch top-1 | ours - torch (points: mean +- "
             "std, standard error of the mean)"]
    for e in range(1, epochs + 1):
        r = [x for x in rows if x["epoch"] == e]
        a = 100 * np.array([x["ours_top1"] for x in r])
        b = 100 * np.array([x["torch_top1"] for x in r])
        d = a - b
        sd = d.std(ddof=1) if len(d) > 1 else 0.0
        lines.append(f"{e} | {a.mean():.1f}% +- {a.std(ddof=1) if len(a) > 1 else 0:.1f} | "
                     f"{b.mean():.1f}% +- {b.std(ddof=1) if len(b) > 1 else 0:.1f} | "
                     f"{d.mean():+.1f} +- {sd:.1f}, s.e. {sd / np.sqrt(len(d)):.1f} "
                     f"({len(r)} seeds)")
    return lines


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True,
                   help="an image folder (train/<class>, val/<class>) or 'synthetic'")
    p.add_argument("--arch", default="cifar", help="a small preset: cifar, tiny or micro")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=0.01, help="0.01: at batch 16 the digits are "
                   "unstable at 0.02 (docs/training.md)")
    p.add_argument("--schedule", choices=["constant", "cosine"], default="cosine",
                   help="constant after the warm-up, or cosine per epoch (`train --schedule "
                        "cosine`): the last epoch at a low rate, so the final error is not a "
                        "snapshot of noisy SGD")
    p.add_argument("--warmup", type=int, default=10, help="linear warm-up steps (both sides)")
    p.add_argument("--dropout-ramp", type=int, default=80, help="dropout ramp steps (both)")
    p.add_argument("--augment", action="store_true",
                   help="random crops and PCA colour (the same draws on both sides; no flips)")
    p.add_argument("--seeds", default="0", help="comma-separated seeds (init and data order)")
    p.add_argument("--check-steps", type=int, default=0,
                   help="dropout off, print the first N losses of both sides, stop")
    p.add_argument("--train-size", type=int, default=5000, help="synthetic training images")
    p.add_argument("--val-size", type=int, default=1000, help="synthetic validation images")
    p.add_argument("--threads", type=int, default=2, help="PyTorch threads")
    p.add_argument("--json", default="", help="also write every figure here")
    args = p.parse_args(argv)
    try:
        import torch
    except ImportError:
        sys.exit("this benchmark compares against PyTorch: pip install torch")
    try:
        seeds = [int(x) for x in args.seeds.split(",")]
    except ValueError:
        sys.exit(f"--seeds: comma-separated integers, got {args.seeds!r}")

    from alexnet_np.errors import UserError
    from alexnet_np.model import get_config
    from alexnet_np.train import load_data

    torch.set_num_threads(args.threads)
    try:
        probe = get_config(args.arch)
        ds = load_data(args.data, probe.image_size, seed=0, synthetic_train=args.train_size,
                       synthetic_val=args.val_size, verbose=False)
    except UserError as err:
        sys.exit(str(err))
    print(f"{args.arch} on {ds.summary()}; batch {args.batch_size}, lr {args.lr} "
          f"({args.schedule}), warm-up "
          f"{args.warmup}, dropout ramp {args.dropout_ramp}, input scale "
          f"{probe.input_scale:g}, {'crops + PCA colour' if args.augment else 'no augmentation'}"
          f", seeds {seeds}", flush=True)
    rows = []
    for seed in seeds:
        rows += run_seed(args, ds, seed, torch, log=lambda m: print(m, flush=True))
    if not args.check_steps:
        for line in summary(rows, args.epochs):
            print(line)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "n_train": len(ds.train_labels),
                       "n_val": len(ds.val_labels), "rows": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
