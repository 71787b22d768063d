"""``alexnet-np grade FILE.py``: grade a student's layers against the reference."""

import json

from ..errors import UserError
from ..tools.grade import LAYERS, format_table, grade_file, passed


def add_parser(sub):
    p = sub.add_parser(
        "grade",
        help="grade a student's layer classes (forward, backward, gradient check, hints)",
        description="Import FILE.py, find the layer classes it defines (same names and "
                    "contract as alexnet_np.layers: " + ", ".join(LAYERS) + "), and check "
                    "each one: forward against the reference, backward against finite "
                    "differences (float64) and against the reference backward. Prints per "
                    "layer pass / FAIL / missing / error / timeout, the worst relative error "
                    "and a hint. Exit status 0 only if every layer present passes.",
    )
    p.add_argument("file", metavar="FILE.py", help="the student's Python file")
    p.add_argument("--layer", action="append", metavar="NAME", choices=LAYERS,
                   help="grade only this class (repeatable); default: all of them")
    p.add_argument("--timeout", type=float, default=30.0,
                   help="seconds allowed per layer before it is reported as a timeout "
                        "(default 30)")
    p.add_argument("--seed", type=int, default=0, help="seed for inputs and gradients")
    p.add_argument("--json", action="store_true", help="print a JSON list instead")
    p.set_defaults(func=run)


def run(args):
    if args.timeout <= 0:
        raise UserError(f"--timeout must be positive, got {args.timeout}")
    names = list(dict.fromkeys(args.layer)) if args.layer else None
    results = grade_file(args.file, names, args.timeout, args.seed)
    ok = passed(results)
    if args.json:
        clean = [{k: v for k, v in r.items() if k != "errors"} for r in results]
        print(json.dumps({"file": args.file, "passed": ok, "layers": clean}, indent=1))
    else:
        print(format_table(results))
        counts = {}
        for r in results:
            counts[r["status"]] = counts.get(r["status"], 0) + 1
        summary = ", ".join(f"{n} {s}" for s, n in counts.items())
        print(f"{'all present layers pass' if ok else 'NOT passed'} ({summary})")
    return 0 if ok else 1
