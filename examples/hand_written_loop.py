"""The model, the paper's optimizer and a data loader in a training loop you write yourself.

    python examples/hand_written_loop.py --steps 200

Everything ``alexnet-np train`` does, minus the bookkeeping: this is the loop to copy when you
want to change something the command line does not offer.
"""

import argparse

import numpy as np

from alexnet_np.data import BatchLoader, load_dataset
from alexnet_np.model import build_model
from alexnet_np.optim import SGD


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--arch", default="cifar")
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--train-size", type=int, default=3000)
    p.add_argument("--cache-dir", default=None)
    args = p.parse_args(argv)

    rng = np.random.default_rng(0)
    model = build_model(args.arch, num_classes=10, seed=0)
    cfg = model.cfg
    ds = load_dataset("synthetic", cfg.image_size, synthetic_train=args.train_size,
                      synthetic_val=500, cache_dir=args.cache_dir, verbose=False)
    opt = SGD(model.params, lr=0.01, momentum=0.9, weight_decay=0.0005)  # sec. 5

    step, losses = 0, []
    while step < args.steps:
        loader = BatchLoader(ds, "train", args.batch_size, cfg.input_size, train=True, rng=rng,
                             scale=cfg.input_scale)
        for x, y in loader:  # x: (B, 3, 32, 32) float32, y: (B,) int64
            model.train()
            loss, _ = model.loss_and_backward(x, y)  # forward, softmax loss, backward
            opt.step(model.grads)  # v <- 0.9 v - 0.0005 lr w - lr g ; w <- w + v
            losses.append(float(loss))
            step += 1
            if step % 50 == 0:
                print(f"step {step}: loss {np.mean(losses[-50:]):.3f}")
            if step == args.steps:
                break

    model.eval()
    wrong = total = 0
    for x, y in BatchLoader(ds, "val", 256, cfg.input_size, train=False,
                            scale=cfg.input_scale):
        wrong += int(np.sum(model.forward(x).argmax(axis=1) != y))
        total += len(y)
    print(f"validation top-1 error after {step} steps: {wrong / total:.2%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
