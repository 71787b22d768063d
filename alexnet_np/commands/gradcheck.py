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
    # default "all", not ["all"]: argparse checks a positional's default against the choices
    p.add_argument("layers", nargs="*", default="all", metavar="LAYER",
                   choices=["all", *SUITE],
                   help=f"all (default) or any of: {', '.join(SUITE)}")
    p.add_argument("--tol", type=float, default=TOLERANCE,
                   help=f"pass if every relative error is at most this (default {TOLERANCE:g})")
    p.add_argument("--seed", type=int, default=0, help="seed for inputs and upstream gradients")
    p.set_defaults(func=run)


# Column widths: the configuration, whose length varies most, comes last.
LAYER_W = max(len(name) for name in SUITE) + 2
ERRORS_W = 34  # "dx=1.2e-10  W=3.4e-11  b=5.6e-12" is the widest


def row(layer, result, errors, configuration):
    return f"{layer:<{LAYER_W}}{result:<8}{errors:<{ERRORS_W}}  {configuration}"


def run(args):
    layers = [args.layers] if isinstance(args.layers, str) else args.layers
    names = list(SUITE) if "all" in layers else list(dict.fromkeys(layers))
    print(row("layer", "result", "max relative error per tensor", "configuration"))
    failures = 0
    for name, config, errors, passed in run_suite(names, args.seed, args.tol):
        errs = "  ".join(f"{k}={v:.1e}" for k, v in errors.items())
        print(row(name, "pass" if passed else "FAIL", errs, config), flush=True)
        failures += not passed
    if failures:
        print(f"{failures} check(s) FAILED (tolerance {args.tol:g})")
        return 1
    print(f"all checks passed (tolerance {args.tol:g})")
    return 0
