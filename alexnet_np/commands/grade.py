"""``alexnet-np grade``: grade a student's layers in a sandbox, or a whole folder of students."""

import argparse
import json
import os

from ..errors import UserError
from ..tools.grade import (
    ITEMS,
    error_json,
    format_table,
    grade_batch,
    grade_submission,
    gradescope,
    load_settings,
    to_json,
)

DESCRIPTION = f"""\
Grade a student's submission: a .py file, or a folder of .py files (one file per layer, or one
layers.py with all of them). Graded items: the layer classes
  {', '.join(ITEMS[:8])}
(names and contract of alexnet_np.layers), the functions {', '.join(ITEMS[8:])}
(lessons/exercises), and the numeric answers in ANSWERS = {{"id": number}} where
alexnet_np.tools.questions exists.

Each item: forward against the reference, backward against the reference backward AND against
finite differences (float64), shapes and dtypes checked first. Verdicts: pass, FAIL (with a
hint naming the likely mistake), missing, error (the code raised), timeout, crashed (exit,
signal, out of memory), forbidden (imports or reads alexnet_np, or writes outside its folder).

The student's code never runs in this process: a child process (python -I, scrubbed
environment, a fresh temporary folder as working directory) imports a copy of it under limits
on CPU time (import included), memory, file size and processes, and sends back arrays; the
reference is computed here. This is a guard against mistakes and casual cheating, not a
security boundary: run untrusted code inside a container or as a separate user (see
docs/grading.md).

Without --config every item the submission defines is graded on the public cases (seed 0).
An instructor's --config FILE (TOML or JSON, kept away from students) chooses the items,
their points, hidden cases and a secret seed. Exit status: 0 only if every graded item
passes; 1 otherwise; 2 for a mistake on the command line (bad path, bad configuration)."""

EPILOG = """\
examples:
  alexnet-np grade lessons/exercises/relu.py            a student checks one exercise
  alexnet-np grade student/ --config hidden.toml --json the instructor's verdict, as JSON
  alexnet-np grade /autograder/submission --config hidden.toml \\
      --gradescope /autograder/results/results.json     inside a Gradescope autograder
  alexnet-np grade --batch submissions/ --out reports/ --config hidden.toml
                                                        reports/grades.csv + one report each"""


def add_parser(sub):
    p = sub.add_parser(
        "grade", help="grade a student's layers in a sandbox (hints, points, hidden tests, "
                      "batch, Gradescope)",
        description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("submission", nargs="?", metavar="SUBMISSION",
                   help="the student's .py file or folder (not with --batch)")
    p.add_argument("--config", metavar="FILE",
                   help="the instructor's TOML/JSON file: items, points, hidden cases, seed, "
                        "limits (docs/grading.md)")
    p.add_argument("--layer", "--item", action="append", metavar="NAME", dest="items",
                   choices=ITEMS, help="grade only this item (repeatable): " + ", ".join(ITEMS))
    p.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                   help="CPU seconds for the import and for each item (default 10, or the "
                        "config's limits.cpu); a child that waits gets 3x that in "
                        "wall-clock time plus 5 s")
    p.add_argument("--memory", type=int, default=None, metavar="MB",
                   help="address-space limit of the child (default 2048)")
    p.add_argument("--seed", type=int, default=None,
                   help="seed for inputs and upstream gradients (default 0, or the config's)")
    p.add_argument("--json", action="store_true",
                   help="print the report as JSON (always JSON, even when the submission "
                        "does not import or grading cannot start)")
    p.add_argument("--gradescope", metavar="RESULTS_JSON",
                   help="also write Gradescope's autograder results.json here")
    p.add_argument("--batch", metavar="DIR",
                   help="grade every submission in DIR (a sub-folder or a .py file each)")
    p.add_argument("--out", metavar="REPORT_DIR",
                   help="with --batch: where grades.csv and NAME.txt / NAME.json go")
    p.add_argument("--jobs", type=int, default=2,
                   help="with --batch: submissions graded at a time (default 2)")
    p.set_defaults(func=run)


def _settings(args):
    if args.timeout is not None and not args.timeout > 0:
        raise UserError(f"--timeout must be positive, got {args.timeout}")
    if args.memory is not None and args.memory < 256:
        raise UserError(f"--memory must be at least 256 MB, got {args.memory}")
    return load_settings(args.config, cpu=args.timeout, memory_mb=args.memory, seed=args.seed)


def _write(path, text):
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UserError(f"cannot write {path}: no folder {folder}")
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def run(args):
    if args.batch:
        if args.submission or not args.out:
            raise UserError("--batch DIR needs --out REPORT_DIR and no SUBMISSION")
        if args.jobs < 1:
            raise UserError(f"--jobs must be at least 1, got {args.jobs}")
        reports = grade_batch(args.batch, args.out, _settings(args), jobs=args.jobs)
        passed = sum(r["passed"] for r in reports.values())
        print(f"{len(reports)} submissions graded, {passed} passed everything: "
              f"{os.path.join(args.out, 'grades.csv')}")
        return 0
    if not args.submission:
        raise UserError("give a SUBMISSION (a .py file or a folder), or --batch DIR")
    try:
        report = grade_submission(args.submission, _settings(args), only=args.items)
    except UserError as err:
        if args.json:
            print(error_json(str(err), args.submission))
        if args.gradescope:
            _write(args.gradescope, json.dumps(
                {"score": 0, "output": f"grading failed: {err}", "tests": []}, indent=1))
        raise
    if args.gradescope:
        _write(args.gradescope, json.dumps(gradescope(report), indent=1))
    print(to_json(report) if args.json else format_table(report))
    return 0 if report["passed"] else 1
