"""``alexnet-np gradcheck``: check every layer's backward pass against finite differences."""

from ..gradcheck import SUITE, TOLERANCE, run_suite


def add_parser(sub):
    p = sub.add_parser(
        "gradcheck",
        help="check each layer's hand-derived gradients against finite differences",
        description="Gradient-check layers in float64: centred finite differences with a "
                    "random upstream gradient, relative error per tensor (worst absolute "
                    "difference over the tensor's largest entry). Exits 1 if any check fails.",
    )
    p.add_argument("layers", nargs="*", default=["all"], metavar="LAYER",
                   choices=["all", *SUITE],
                   help=f"all (default) or any of: {', '.join(SUITE)}")
    p.add_argument("--tol", type=float, default=TOLERANCE,
                   help=f"pass if every relative error is at most this (default {TOLERANCE:g})")
    p.add_argument("--seed", type=int, default=0, help="seed for inputs and upstream gradients")
    p.set_defaults(func=run)


def run(args):
    names = list(SUITE) if "all" in args.layers else list(dict.fromkeys(args.layers))
    print(f"{'layer':<13} {'configuration':<42} {'max relative error per tensor':<38} result")
    failures = 0
    for name, config, errors, passed in run_suite(names, args.seed, args.tol):
        errs = "  ".join(f"{k}={v:.1e}" for k, v in errors.items())
        print(f"{name:<13} {config:<42} {errs:<38} {'pass' if passed else 'FAIL'}", flush=True)
        failures += not passed
    if failures:
        print(f"{failures} check(s) FAILED (tolerance {args.tol:g})")
        return 1
    print(f"all checks passed (tolerance {args.tol:g})")
    return 0
