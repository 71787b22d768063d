"""Benchmark of the CUDA training step, and of the same network in PyTorch on the same GPU.

``bench_cuda(arch, batch_size, steps, compare_torch)`` is what ``alexnet-np bench --device
cuda`` calls; ``python -m alexnet_np.cuda.bench --arch paper --batch-size 128`` runs it
directly. It returns::

    {"train_images_per_s", "infer_images_per_s", "peak_rss_mb", "peak_gpu_mb", "device",
     "layers": [{"name", "forward_ms", "backward_ms", "share"}],
     "torch_train_images_per_s", "ratio"}      # the last two when PyTorch is importable

Throughput is timed with ``cuda.synchronize()`` + ``perf_counter`` around ``steps`` whole
training steps (after two warm-up steps that also compile the kernels); the per-layer table
comes from one extra step that synchronises after every layer. PyTorch runs float32 with TF32
off (``allow_tf32 = False`` for matmul and cuDNN), the same layers (grouped convs,
``LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2)`` = the paper's LRN, max-pool 3/2,
dropout) and ``torch.optim.SGD(momentum=0.9, weight_decay=5e-4)``.
"""

import argparse
import json
import resource
import time

import numpy as np
from numba import cuda

from ..model import build_model
from ..optim import SGD
from .common import device_name, require_gpu, simulator, torch_fp32
from .gemm import VERSIONS as GEMM_VERSIONS
from .stepper import CudaStepper


def _peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _gpu_used_mb():
    if simulator():
        return 0.0
    free, total = cuda.current_context().get_memory_info()
    return (total - free) / 2**20


def _batch(model, n, rng):
    c, s = model.cfg.in_channels, model.cfg.input_size
    x = rng.standard_normal((n, c, s, s)).astype(np.float32)
    return x, rng.integers(0, model.cfg.num_classes, n)


def bench_cuda(arch="paper", batch_size=128, steps=10, compare_torch=True,
               conv_version="gemm", gemm_version="tiled128"):
    """Time training and inference of ``arch`` on the GPU; see the module docstring."""
    require_gpu()
    model = build_model(arch, seed=0)
    opt = SGD(model.params, lr=0.01)
    stepper = CudaStepper(model, opt, conv_version=conv_version, gemm_version=gemm_version)
    rng = np.random.default_rng(0)
    x, y = _batch(model, batch_size, rng)
    for _ in range(2):  # compile and allocate
        stepper.train_step(x, y)
    cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(steps):
        stepper.train_step(x, y)
    cuda.synchronize()
    train_s = (time.perf_counter() - t0) / steps
    stepper.logits(x)
    t0 = time.perf_counter()
    for _ in range(steps):
        stepper.logits(x)
    cuda.synchronize()
    infer_s = (time.perf_counter() - t0) / steps

    times = {}
    stepper.train_step(x, y, times=times)
    total = sum(f + b for f, b in times.values()) or 1.0
    layers = [{"name": name, "forward_ms": f * 1e3, "backward_ms": b * 1e3,
               "share": (f + b) / total} for name, (f, b) in times.items()]
    result = {"train_images_per_s": batch_size / train_s,
              "infer_images_per_s": batch_size / infer_s,
              "peak_rss_mb": _peak_rss_mb(), "peak_gpu_mb": _gpu_used_mb(),
              "layers": layers, "device": device_name(), "arch": arch,
              "batch_size": batch_size, "steps": steps,
              "versions": {"conv": conv_version, "gemm": gemm_version}}
    if compare_torch and not simulator():
        print(format_result(result), flush=True)  # ours first: kept if PyTorch fails
        torch_ips = bench_torch(model, batch_size, steps)
        if torch_ips is not None:
            result["torch_train_images_per_s"] = torch_ips
            result["ratio"] = result["train_images_per_s"] / torch_ips
    return result


def bench_torch(model, batch_size, steps):
    """Training images/s of the same network in PyTorch (float32, TF32 off), or None."""
    torch = torch_fp32()
    if torch is None:
        return None
    from torch import nn

    torch.backends.cudnn.benchmark = True
    from ..tools.bench import torch_model  # the same layers, the same weights

    net = torch_model(model).cuda().float().train()
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    loss_fn = nn.CrossEntropyLoss()
    c, s = model.cfg.in_channels, model.cfg.input_size
    x = torch.randn(batch_size, c, s, s, device="cuda")
    y = torch.randint(0, model.cfg.num_classes, (batch_size,), device="cuda")

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()
        return loss

    for _ in range(3):
        step()
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(steps):
        step().item()  # the loss crosses the bus, as in our stepper
    torch.cuda.synchronize()
    return batch_size * steps / (time.perf_counter() - t0)


def format_result(r):
    lines = [f"device: {r['device']}  arch {r['arch']}  batch {r['batch_size']}  "
             f"versions {r['versions']}",
             f"train {r['train_images_per_s']:.1f} images/s   "
             f"inference {r['infer_images_per_s']:.1f} images/s   "
             f"host RSS {r['peak_rss_mb']:.0f} MB   GPU used {r['peak_gpu_mb']:.0f} MB",
             f"{'layer':<10}{'forward ms':>12}{'backward ms':>13}{'share':>8}"]
    for row in r["layers"]:
        lines.append(f"{row['name']:<10}{row['forward_ms']:>12.3f}{row['backward_ms']:>13.3f}"
                     f"{row['share'] * 100:>7.1f}%")
    if "ratio" in r:
        lines.append(f"PyTorch (float32, TF32 off) {r['torch_train_images_per_s']:.1f} "
                     f"images/s; ratio ours/PyTorch {r['ratio']:.3f}")
    return "\n".join(lines)


def _main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m alexnet_np.cuda.bench")
    parser.add_argument("--arch", default="micro" if simulator() else "paper")
    parser.add_argument("--batch-size", type=int, default=2 if simulator() else 128)
    parser.add_argument("--steps", type=int, default=1 if simulator() else 10)
    parser.add_argument("--conv", default="gemm", choices=["gemm", "naive"])
    parser.add_argument("--gemm", default="tiled128", choices=list(GEMM_VERSIONS),
                        help="v1 naive, v2 tiled, v3 tiled128 (default)")
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--json", help="also write the result to this file")
    args = parser.parse_args(argv)
    r = bench_cuda(args.arch, args.batch_size, args.steps, not args.no_torch, args.conv,
                   args.gemm)
    print(format_result(r))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(r, f, indent=2)


if __name__ == "__main__":
    _main()
