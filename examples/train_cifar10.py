"""Train the ``cifar`` preset on CIFAR-10 (the "python version" folder you downloaded).

    python examples/train_cifar10.py PATH/TO/cifar-10-batches-py --epochs 20

The folder holds data_batch_1..5, test_batch and batches.meta; test_batch is the validation
split. Each run writes last.npz / best.npz / metrics.jsonl / curves.png into --out.
"""

import argparse
import sys

from alexnet_np.errors import UserError
from alexnet_np.train import TrainSettings, train


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("folder", help="the cifar-10-batches-py folder")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=128)  # the paper's batch size
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--out", default="runs/cifar10")
    p.add_argument("--max-steps", type=int, default=0, help="stop early (for a smoke test)")
    p.add_argument("--cache-dir", default="")
    args = p.parse_args(argv)
    settings = TrainSettings(data=args.folder, arch="cifar", epochs=args.epochs,
                             batch_size=args.batch_size, lr=args.lr, out=args.out,
                             max_steps=args.max_steps, cache_dir=args.cache_dir)
    try:
        summary = train(settings)
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if "final" not in summary:  # --max-steps stopped inside the first epoch
        print(f"stopped at step {summary['step']} (--max-steps); no epoch completed yet")
        return 0
    print(f"best validation top-1 error {summary['best_top1_error']:.2%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
