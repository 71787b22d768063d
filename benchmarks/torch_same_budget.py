"""The default training run, in PyTorch: same network, initial weights, data, batches, budget.

    pip install torch==2.13.0   # a measuring stick only, never a dependency of alexnet-np
    python benchmarks/torch_same_budget.py

Builds the ``cifar`` preset with ``alexnet-np train``'s seed, copies its weights into the same
network in PyTorch (``alexnet_np.tools.bench.torch_model``: LRN as ``nn.LocalResponseNorm(5,
alpha * 5, 0.75, 2)``, groups 2, max-pool 3/2, dropout 0.5), and trains it on the same
synthetic batches (same loader, same generator seed) with ``torch.optim.SGD`` (momentum 0.9,
weight decay 5e-4, lr 0.02 constant: the default run's plateau schedule never fired) for the
default run's 10 epochs, printing validation errors per epoch to compare with
``alexnet-np train``'s log.
"""

import time

import numpy as np
import torch

from alexnet_np.data import BatchLoader, load_dataset
from alexnet_np.model import build_model
from alexnet_np.tools.bench import torch_model


def errors(net, ds):
    wrong1 = wrong5 = 0
    with torch.no_grad():
        for x, y in BatchLoader(ds, "val", 256, 32, train=False, scale=1 / 64):
            top = net(torch.from_numpy(x)).numpy().argsort(1)[:, ::-1]
            wrong1 += int((top[:, 0] != y).sum())
            wrong5 += int((~(top[:, :5] == y[:, None]).any(1)).sum())
    return wrong1 / len(ds.val_labels), wrong5 / len(ds.val_labels)


def main():
    torch.set_num_threads(2)
    torch.manual_seed(0)
    model = build_model("cifar", num_classes=10, seed=0)  # the default run's initial weights
    net = torch_model(model)
    ds = load_dataset("synthetic", 36, synthetic_train=5000, synthetic_val=1000, verbose=False)
    opt = torch.optim.SGD(net.parameters(), lr=0.02, momentum=0.9, weight_decay=5e-4)
    rng = np.random.default_rng([0, 1])  # the training loop's data generator
    t0 = time.time()
    for epoch in range(10):
        net.train()
        losses = []
        for x, y in BatchLoader(ds, "train", 64, 32, train=True, rng=rng, scale=1 / 64):
            loss = torch.nn.functional.cross_entropy(net(torch.from_numpy(x)),
                                                     torch.from_numpy(y))
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        net.eval()
        top1, top5 = errors(net, ds)
        print(f"torch epoch {epoch + 1}: train loss {np.mean(losses):.4f}, val top-1 error "
              f"{top1:.2%}, top-5 error {top5:.2%} ({time.time() - t0:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
