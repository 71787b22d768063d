"""``alexnet-np bench``: training and inference throughput, peak memory, per-layer times."""

import json
import sys

from ..errors import UserError
from ..model import PRESETS


def add_parser(sub):
    p = sub.add_parser(
        "bench",
        help="time training steps and inference passes, layer by layer (optionally vs PyTorch)",
        description="Warm up, then report the median of N training steps (forward, loss, "
                    "backward, SGD update) and N inference passes: images/s, peak memory and "
                    "a per-layer table. --compare-torch times the same network in PyTorch "
                    "(if installed) with the same thread count, in the same process run.",
    )
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu",
                   help="cpu (NumPy + Numba, default) or cuda (Numba CUDA)")
    p.add_argument("--arch", default="paper", choices=list(PRESETS),
                   help="network preset (default: paper)")
    p.add_argument("--batch-size", type=int, default=32, help="images per step (default 32)")
    p.add_argument("--steps", type=int, default=5, help="timed steps (default 5)")
    p.add_argument("--warmup", type=int, default=2, help="untimed steps first (default 2)")
    p.add_argument("--reference", action="store_true",
                   help="time the plain NumPy reference layers instead of the fast path")
    p.add_argument("--compare-torch", action="store_true",
                   help="also time PyTorch's version of the network and print the ratio")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")
    p.set_defaults(func=run)


def _log(msg):
    print(msg, file=sys.stderr, flush=True)


def run(args):
    if args.batch_size < 1 or args.steps < 1:
        raise UserError("--batch-size and --steps must be at least 1")
    if args.compare_torch:
        try:
            import torch  # noqa: F401 - optional: only checks that PyTorch is installed
        except ImportError as err:
            raise UserError("--compare-torch needs PyTorch, which is not installed "
                            "(it is never a dependency: pip install torch)") from err
    if args.device == "cuda":
        try:
            from ..cuda.bench import bench_cuda  # optional: CUDA only when asked for
        except ImportError as err:
            raise UserError(f"--device cuda is not available here ({err})") from err
        result = bench_cuda(args.arch, args.batch_size, args.steps, args.compare_torch)
        print(json.dumps(result, indent=1) if args.json else result)
        return 0
    # Numba and the fast layers: loaded when a benchmark runs (CLI start-up time)
    from ..tools.bench import format_report, run_bench

    result = run_bench(args.arch, args.batch_size, args.steps, args.warmup,
                       args.compare_torch, fast=not args.reference,
                       log=None if args.json else _log)
    print(json.dumps(result) if args.json else format_report(result))
    return 0
