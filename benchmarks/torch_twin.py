"""Our training step against its PyTorch twin, on the same files, batches and initial weights.

    pip install torch                  # a measuring stick only, never a dependency
    python benchmarks/digits_folder.py --out data/digits     # needs scikit-learn
    python benchmarks/torch_twin.py --data data/digits --arch cifar --epochs 3

Both sides start from the same weights (the preset built with ``--seed``, copied into PyTorch by
``alexnet_np.tools.bench.torch_model``), see the same mini-batches in the same order (one
``BatchLoader`` per epoch, no augmentation: centre crop, no flips, no PCA colour) and use the
same recipe: batch size, learning rate, linear warm-up, momentum 0.9, weight decay 5e-4 on every
parameter, the preset's input scale. alexnet-np uses the paper's SGD (lr inside the velocity);
PyTorch its own ``torch.optim.SGD`` (lr outside): identical at a constant rate, slightly
different while the warm-up changes the rate. Dropout masks are drawn independently on each
side. After every epoch both are evaluated on the val split (centre crop, dropout off); the
table at the end gives the top-1 errors and their difference.
"""

import argparse
import json
import sys
import time

import numpy as np


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, help="an image folder (train/<class>, val/<class>)")
    p.add_argument("--arch", default="cifar", help="a small preset: cifar, tiny or micro")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=0.02)
    p.add_argument("--warmup", type=int, default=0, help="linear warm-up steps (both sides)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2, help="PyTorch threads")
    p.add_argument("--json", default="", help="also write the per-epoch figures here")
    args = p.parse_args(argv)
    try:
        import torch
    except ImportError:
        sys.exit("this benchmark compares against PyTorch: pip install torch")

    from alexnet_np.data import BatchLoader, load_dataset
    from alexnet_np.model import AlexNet, get_config
    from alexnet_np.optim import make_schedule
    from alexnet_np.tools.bench import torch_model
    from alexnet_np.train import NumpyStepper, evaluate, make_optimizer

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    probe = get_config(args.arch)
    ds = load_dataset(args.data, probe.image_size, verbose=False)
    cfg = get_config(args.arch, num_classes=len(ds.classes))
    model = AlexNet(cfg, rng=np.random.default_rng(args.seed))
    net = torch_model(model)  # the same initial weights
    ours = make_optimizer(model.params, True, lr=args.lr, momentum=0.9, weight_decay=5e-4)
    theirs = torch.optim.SGD(net.parameters(), lr=args.lr, momentum=0.9, weight_decay=5e-4)
    schedule = make_schedule("step", args.lr, 10**9, warmup_steps=args.warmup)  # constant
    stepper = NumpyStepper(model, ours)
    rng = np.random.default_rng([args.seed, 1])
    print(f"{args.arch} on {ds.summary()}; batch {args.batch_size}, lr {args.lr}, warm-up "
          f"{args.warmup}, input scale {cfg.input_scale:g}, no augmentation", flush=True)

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
                                rng=rng, flip=False, random_crop=False, pca_color=False,
                                scale=cfg.input_scale, prefetch=False):
            lr = schedule.lr_at(step)
            ours.lr = lr
            for group in theirs.param_groups:
                group["lr"] = lr
            loss_ours.append(stepper.train_step(x, y))
            loss = torch.nn.functional.cross_entropy(net(torch.from_numpy(x)),
                                                     torch.from_numpy(y))
            theirs.zero_grad()
            loss.backward()
            theirs.step()
            loss_theirs.append(loss.item())
            step += 1
        ev = evaluate(stepper, ds, batch_size=256, scale=cfg.input_scale)
        row = {"epoch": epoch, "step": step, "ours_loss": float(np.mean(loss_ours)),
               "torch_loss": float(np.mean(loss_theirs)), "ours_top1": ev["top1_error"],
               "torch_top1": torch_top1()}
        rows.append(row)
        diff = 100 * (row["ours_top1"] - row["torch_top1"])
        print(f"epoch {epoch}: train loss ours {row['ours_loss']:.4f} torch "
              f"{row['torch_loss']:.4f}; val top-1 error ours {row['ours_top1']:.2%} torch "
              f"{row['torch_top1']:.2%} (difference {diff:+.1f} points; "
              f"{time.time() - t0:.0f} s)", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "n_train": len(ds.train_labels),
                       "n_val": len(ds.val_labels), "epochs": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
