"""Benchmark one training step and one inference pass, layer by layer, optionally against PyTorch.

A training step is what ``alexnet-np train`` does per batch: forward, softmax cross-entropy,
backward and the paper's SGD update (``optimizer.step(model.grads)``). Inference is a forward
pass in evaluation mode. After ``warmup`` untimed steps (Numba compiles its kernels then), each
of ``steps`` steps is timed with ``time.perf_counter`` and the MEDIAN is reported: the machines
this project runs on are shared and noisy, and a median ignores the odd slow step.

With ``compare_torch`` the same network (same weights, LRN with PyTorch's alpha = our alpha
times size, groups, overlapping pooling, dropout) is built in PyTorch with the same thread
count, and our steps and PyTorch's are timed alternately in the same process, so that a noisy
neighbour slows both alike. PyTorch is never a dependency: it is imported only here, only when
asked for.

Against what the machine can do: ``sgemm_gflops`` times a 2048^3 float32 matrix product in
this process (NumPy's BLAS, its default threads) once per step, between the steps (median
over the steps), and each convolution and fully connected layer's row reports the rate its
forward and backward passes reach (their multiply-adds from
``AlexNet.summary_rows``, 2 FLOP each; backward counts dW and, where computed, dx) as a
fraction of that rate. ``blas_info`` names the BLAS library and the kernel it chose (via
threadpoolctl, when installed): the OPENBLAS_CORETYPE variable, for one, changes it.

Peak memory is the resident-set high-water mark (``VmHWM``), reset after the network is built
(so it counts training: weights, gradients, momentum, activations, buffers, and the libraries).
Ours is read in this process before PyTorch is imported; PyTorch's is measured in a child
process that runs three training steps and an inference pass, so that neither library's
memory counts against the other.
"""

import json
import os
import resource
import statistics
import subprocess
import sys
import time

import numba
import numpy as np

from .. import layers
from ..fast.sgd import FastSGD
from ..fast.threads import workers
from ..model import build_model
from ..optim import SGD


def reset_peak_rss():
    """Reset this process's RSS high-water mark to its current RSS (Linux >= 4.0; elsewhere
    a no-op), so that building a network (its float64 initialisation temporaries) does not
    count as training memory."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def peak_rss_mb():
    """The resident-set high-water mark of this process (since the last reset), in MiB."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def thread_count():
    """The cores this process may use: the thread count for BLAS, Numba and PyTorch alike."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def blas_info():
    """Which BLAS library and kernel NumPy runs, via threadpoolctl when it is installed."""
    try:
        from threadpoolctl import threadpool_info  # optional: not a dependency
    except ImportError:
        return None
    return [{k: d.get(k) for k in ("internal_api", "version", "architecture", "num_threads")}
            for d in threadpool_info() if d.get("user_api") == "blas"]


def numba_info():
    """The worker threads of the fast layers (``fast/threads.py``: they run the serial Numba
    loops and BLAS products), and Numba's threading layer: "none" while no ``parallel=True``
    kernel has run (the fast layers have none, so none is started)."""
    try:
        layer = numba.threading_layer()
    except ValueError:  # no parallel kernel has run yet
        layer = "none"
    return {"threading_layer": layer, "workers": workers()}


def sgemm_operands(n=2048, seed=0):
    """Two random float32 (n, n) matrices and an output array for :func:`sgemm_gflops`."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, n), dtype=np.float32),
            rng.standard_normal((n, n), dtype=np.float32), np.empty((n, n), dtype=np.float32))


def sgemm_gflops(a, b, out):
    """The rate of one timed ``a @ b`` (2 n^3 FLOP) in GFLOP/s: NumPy's BLAS, its own
    threads. The bench times one per step, between our steps and PyTorch's, so that the rate
    it divides by was measured under the same load as the layers."""
    t0 = time.perf_counter()
    np.matmul(a, b, out=out)
    return 2 * a.shape[0] * a.shape[1] * b.shape[1] / (time.perf_counter() - t0) / 1e9


def layer_flops(model, batch_size):
    """``{name: (forward FLOP, backward FLOP)}`` of the convolution and fully connected
    layers: 2 FLOP per multiply-add; backward = dW, plus dx where the layer computes it."""
    flops = {}
    for name, _, _, _, macs in model.summary_rows():
        if macs:
            fwd = 2 * macs * batch_size
            needs_dx = getattr(model[name], "needs_input_grad", True)
            flops[name] = (fwd, fwd * (2 if needs_dx else 1))
    return flops


def make_batch(cfg, batch_size, seed=0, dtype=np.float32):
    """A random batch shaped like centred raw pixels (std 50), and random labels."""
    rng = np.random.default_rng(seed)
    shape = (batch_size, cfg.in_channels, cfg.input_size, cfg.input_size)
    x = (rng.standard_normal(shape) * 50 * cfg.input_scale).astype(dtype)
    y = rng.integers(0, cfg.num_classes, size=batch_size)
    return x, y


class LayerTimer:
    """Times every layer's ``forward`` and ``backward`` by wrapping them on the instances.

    ``times[name] = [forward seconds, backward seconds]`` accumulates until ``reset()``;
    ``remove()`` restores the class methods. The wrappers cost about a microsecond per call.
    """

    def __init__(self, model):
        self.model = model
        self.times = {name: [0.0, 0.0] for name, _ in model.layers}
        for name, layer in model.layers:
            layer.forward = self._wrap(layer.forward, name, 0)
            layer.backward = self._wrap(layer.backward, name, 1)

    def _wrap(self, fn, name, slot):
        def timed(*args):
            t0 = time.perf_counter()
            result = fn(*args)
            self.times[name][slot] += time.perf_counter() - t0
            return result
        return timed

    def reset(self):
        for v in self.times.values():
            v[0] = v[1] = 0.0

    def snapshot(self):
        return {name: tuple(v) for name, v in self.times.items()}

    def remove(self):
        for _, layer in self.model.layers:
            del layer.forward, layer.backward


# --- PyTorch, the measuring stick ----------------------------------------------------------
def torch_model(model):
    """The same network in PyTorch, with ``model``'s weights copied in (float32).

    The paper's LRN (alpha not divided by size) is ``nn.LocalResponseNorm(size, alpha * size,
    beta, k)`` in PyTorch, which divides alpha by size.
    """
    import torch  # optional: PyTorch is only the measuring stick
    from torch import nn

    mods = []
    for _, layer in model.layers:
        if isinstance(layer, layers.Conv2d):
            m = nn.Conv2d(layer.in_channels, layer.out_channels, layer.kernel_size,
                          layer.stride, layer.padding, groups=layer.groups)
        elif isinstance(layer, layers.Linear):
            m = nn.Linear(layer.in_features, layer.out_features)
        elif isinstance(layer, layers.ReLU):
            m = nn.ReLU()
        elif isinstance(layer, layers.Tanh):
            m = nn.Tanh()
        elif isinstance(layer, layers.LocalResponseNorm):
            m = nn.LocalResponseNorm(layer.size, layer.alpha * layer.size, layer.beta, layer.k)
        elif isinstance(layer, layers.MaxPool2d):
            m = nn.MaxPool2d(layer.kernel_size, layer.stride)
        elif isinstance(layer, layers.Dropout):
            m = nn.Dropout(layer.p)
        elif isinstance(layer, layers.Flatten):
            m = nn.Flatten()
        elif isinstance(layer, layers.ZeroPad2d):
            t, b, l_, r = layer.padding
            m = nn.ZeroPad2d((l_, r, t, b))
        else:
            raise TypeError(f"no PyTorch equivalent for {type(layer).__name__}")
        if layer.params:
            with torch.no_grad():
                m.weight.copy_(torch.from_numpy(np.asarray(layer.params["W"], np.float32)))
                m.bias.copy_(torch.from_numpy(np.asarray(layer.params["b"], np.float32)))
        mods.append(m)
    return nn.Sequential(*mods)


class TorchRunner:
    """PyTorch's training step (SGD, momentum 0.9, weight decay 5e-4) and inference pass."""

    def __init__(self, model, x, y, threads):
        import torch  # optional: PyTorch is only the measuring stick
        torch.set_num_threads(threads)
        self.torch = torch
        self.net = torch_model(model)
        self.opt = torch.optim.SGD(self.net.parameters(), lr=0.01, momentum=0.9,
                                   weight_decay=5e-4)
        self.loss_fn = torch.nn.CrossEntropyLoss()
        self.x, self.y = torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))

    def train_step(self):
        self.net.train()
        self.opt.zero_grad()
        loss = self.loss_fn(self.net(self.x), self.y)
        loss.backward()
        self.opt.step()
        return float(loss.detach())

    def infer(self):
        self.net.eval()
        with self.torch.no_grad():
            return self.net(self.x)


def _torch_peak_main(arch, batch_size, threads):
    """Child process: PyTorch's peak RSS over building the network and three training steps."""
    model = build_model(arch, fast=False)
    x, y = make_batch(model.cfg, batch_size)
    runner = TorchRunner(model, x, y, threads)
    del model
    reset_peak_rss()  # count PyTorch's training, not the building of our copy of the weights
    for _ in range(3):
        runner.train_step()
    runner.infer()
    print(json.dumps({"peak_rss_mb": peak_rss_mb()}))


def torch_peak_rss_mb(arch, batch_size, threads):
    code = ("import sys; from alexnet_np.tools.bench import _torch_peak_main; "
            f"_torch_peak_main({arch!r}, {batch_size}, {threads})")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [root,
                                                                    os.environ.get("PYTHONPATH")])))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])["peak_rss_mb"]


# --- the benchmark -------------------------------------------------------------------------
SPIN_SETTLE_S = 0.25  # pause after each sgemm measurement (see run_bench)


def run_bench(arch="paper", batch_size=32, steps=5, warmup=2, compare_torch=False, fast=True,
              seed=0, log=None):
    """Time ``steps`` training steps and inference passes; returns the report as a dict.

    Keys: ``arch``, ``batch_size``, ``steps``, ``path`` ("fast" or "reference"), ``threads``,
    ``train_images_per_s``, ``infer_images_per_s``, ``peak_rss_mb``, ``train_step_s``,
    ``infer_s``, ``layers`` (per layer: ``name``, ``forward_ms``, ``backward_ms``,
    ``share`` of the training step; conv and linear layers also ``forward_gflop``,
    ``backward_gflop``, ``forward_of_sgemm``, ``backward_of_sgemm``), ``other_ms`` (loss and
    SGD update), ``blas``, ``numba``, ``sgemm_gflops`` (median of :func:`sgemm_gflops` over
    the steps); with
    ``compare_torch`` also ``torch_train_images_per_s``, ``torch_infer_images_per_s``,
    ``torch_peak_rss_mb``, ``ratio`` (ours / PyTorch, training), ``infer_ratio``,
    ``memory_ratio`` and ``train_pair_ratios`` (PyTorch's step time over ours, step by step:
    each pair ran one after the other, so a busy minute slows both sides of it alike and the
    spread of these shows how noisy the machine was).
    """
    log = log or (lambda msg: None)
    threads = thread_count()
    model = build_model(arch, seed=seed, fast=fast)
    x, y = make_batch(model.cfg, batch_size, seed)
    opt = FastSGD(model.params) if fast else SGD(model.params)
    reset_peak_rss()  # count training, not the float64 temporaries of the initialisation

    def ours_train():
        model.train()
        loss, _ = model.loss_and_backward(x, y)
        opt.step(model.grads)
        return loss

    def ours_infer():
        model.eval()
        return model.forward(x)

    log(f"warming up ({warmup} steps; Numba compiles its kernels on first use)")
    for _ in range(max(warmup, 1)):
        ours_train()
        ours_infer()
    runner = None
    if compare_torch:
        ours_peak = peak_rss_mb()  # before PyTorch is imported
        runner = TorchRunner(model, x, y, threads)
        for _ in range(max(warmup, 1)):
            runner.train_step()
            runner.infer()

    gemm = sgemm_operands()
    sgemm_gflops(*gemm)  # untimed: BLAS starts its threads and touches the arrays
    timer = LayerTimer(model)
    train_t, infer_t, torch_train_t, torch_infer_t, per_layer = [], [], [], [], []
    gemm_rates = []
    try:
        for i in range(steps):
            timer.reset()
            t0 = time.perf_counter()
            ours_train()
            train_t.append(time.perf_counter() - t0)
            per_layer.append(timer.snapshot())
            t0 = time.perf_counter()
            ours_infer()
            infer_t.append(time.perf_counter() - t0)
            gemm_rates.append(sgemm_gflops(*gemm))
            # OpenBLAS's threads spin for a while after a product (up to ~0.1 s by default)
            # before they sleep: let them, so that they do not take cores from the next timed
            # step (PyTorch's, when comparing).
            time.sleep(SPIN_SETTLE_S)
            if runner:
                t0 = time.perf_counter()
                runner.train_step()
                torch_train_t.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                runner.infer()
                torch_infer_t.append(time.perf_counter() - t0)
                time.sleep(SPIN_SETTLE_S)  # the same pause before our next step
            log(f"step {i + 1}/{steps}: train {train_t[-1]:.3f} s"
                + (f", torch {torch_train_t[-1]:.3f} s" if runner else ""))
    finally:
        timer.remove()

    step_s = statistics.median(train_t)
    gemm_gflops = statistics.median(gemm_rates)
    flops = layer_flops(model, batch_size)
    layers = []
    for name, _ in model.layers:
        fwd = statistics.median(p[name][0] for p in per_layer)
        bwd = statistics.median(p[name][1] for p in per_layer)
        row = {"name": name, "forward_ms": fwd * 1e3, "backward_ms": bwd * 1e3,
               "share": (fwd + bwd) / step_s}
        if name in flops:  # the fraction of the measured sgemm rate each pass reaches
            row["forward_gflop"], row["backward_gflop"] = (f / 1e9 for f in flops[name])
            row["forward_of_sgemm"] = row["forward_gflop"] / fwd / gemm_gflops
            row["backward_of_sgemm"] = row["backward_gflop"] / bwd / gemm_gflops
        layers.append(row)
    layer_sum = sum(row["forward_ms"] + row["backward_ms"] for row in layers) / 1e3
    result = {
        "arch": arch, "batch_size": batch_size, "steps": steps,
        "path": "fast" if fast else "reference", "threads": threads,
        "train_images_per_s": batch_size / step_s,
        "infer_images_per_s": batch_size / statistics.median(infer_t),
        "peak_rss_mb": ours_peak if runner else peak_rss_mb(),
        "train_step_s": step_s, "infer_s": statistics.median(infer_t),
        "layers": layers, "other_ms": max(step_s - layer_sum, 0.0) * 1e3,
        "blas": blas_info(), "numba": numba_info(), "sgemm_gflops": gemm_gflops,
    }
    if runner:
        t_train, t_infer = statistics.median(torch_train_t), statistics.median(torch_infer_t)
        result["torch_train_images_per_s"] = batch_size / t_train
        result["torch_infer_images_per_s"] = batch_size / t_infer
        result["ratio"] = result["train_images_per_s"] / result["torch_train_images_per_s"]
        result["infer_ratio"] = result["infer_images_per_s"] / result["torch_infer_images_per_s"]
        result["train_pair_ratios"] = [t / o for o, t in zip(train_t, torch_train_t, strict=True)]
        log("measuring PyTorch's peak memory in a child process")
        result["torch_peak_rss_mb"] = torch_peak_rss_mb(arch, batch_size, threads)
        result["memory_ratio"] = result["peak_rss_mb"] / result["torch_peak_rss_mb"]
    return result


def format_report(r):
    """The human-readable report: throughput, memory, the per-layer table, the comparison."""
    lines = [f"alexnet-np bench: arch {r['arch']}, batch {r['batch_size']}, {r['path']} path, "
             f"{r['threads']} threads, median of {r['steps']} steps"]
    if r.get("blas"):
        lines.append("BLAS: " + ", ".join(f"{b['internal_api']} {b['version']} "
                                          f"{b['architecture']} x{b['num_threads']}"
                                          for b in r["blas"]))
    if r.get("numba"):
        lines.append(f"fast layers: {r['numba']['workers']} worker threads (BLAS on one thread "
                     f"each while they run); Numba threading layer: "
                     f"{r['numba']['threading_layer']}")
    if r.get("sgemm_gflops"):
        lines.append(f"sgemm: {r['sgemm_gflops']:.0f} GFLOP/s measured in this process "
                     "(2048^3 float32 product, one per step, median)")
    lines += [f"training   {r['train_images_per_s']:8.1f} images/s  "
              f"({r['train_step_s'] * 1e3:.0f} ms per step)",
              f"inference  {r['infer_images_per_s']:8.1f} images/s  "
              f"({r['infer_s'] * 1e3:.0f} ms per batch)",
              f"peak memory {r['peak_rss_mb']:7.0f} MiB (RSS high-water)", "",
              f"{'layer':<10}{'forward ms':>12}{'backward ms':>13}{'share':>8}"
              f"{'fwd/sgemm':>11}{'bwd/sgemm':>11}"]
    for row in r["layers"]:
        line = (f"{row['name']:<10}{row['forward_ms']:12.1f}{row['backward_ms']:13.1f}"
                f"{row['share']:8.1%}")
        if "forward_of_sgemm" in row:
            line += f"{row['forward_of_sgemm']:11.0%}{row['backward_of_sgemm']:11.0%}"
        lines.append(line)
    other_share = r["other_ms"] / (r["train_step_s"] * 1e3)
    lines.append(f"{'loss+SGD':<10}{r['other_ms']:25.1f}{other_share:8.1%}")
    if "ratio" in r:
        lines += ["",
                  f"PyTorch    training {r['torch_train_images_per_s']:.1f} images/s, inference "
                  f"{r['torch_infer_images_per_s']:.1f} images/s, peak "
                  f"{r['torch_peak_rss_mb']:.0f} MiB",
                  f"ratio (ours / PyTorch): training {r['ratio']:.2f}x, inference "
                  f"{r['infer_ratio']:.2f}x, peak memory {r['memory_ratio']:.2f}x"]
        pairs = r.get("train_pair_ratios")
        if pairs:
            lines.append(f"training, step by step (PyTorch's step / ours, same minute): median "
                         f"{statistics.median(pairs):.2f}x, range {min(pairs):.2f}-"
                         f"{max(pairs):.2f}x over {len(pairs)} pairs")
    return "\n".join(lines)
