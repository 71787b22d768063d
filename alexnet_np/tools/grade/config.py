"""What is graded and how: the public defaults, and an instructor's file that overrides them.

Without a file, every item the submission defines is graded on the public cases below with
seed 0 (what a student sees while practising). An instructor's file (TOML or JSON, kept
outside the student package) chooses the items of an assignment, their points, hidden cases
and a secret seed::

    seed = 90210                      # hidden inputs: students cannot reproduce them
    [limits]
    cpu = 10                          # CPU seconds for the import and for each item
    memory_mb = 2048
    [sandbox]
    blocked_modules = ["torch", "scipy"]   # alexnet_np is always blocked
    protect = ["/home/me/course"]          # the submission may not read these
    user = "nobody"                   # as root, run the child as this user ("" = don't)
    [items.Conv2d]
    points = 30
    public = true                     # keep the public cases too (default true)
    [[items.Conv2d.cases]]            # one table per hidden case (one key per line
    name = "hidden-1"                 # in a real file; shortened here)
    n = 2, c = 6, h = 9, w = 7, f = 4, k = 3, stride = 2, padding = 1, groups = 2, fd = true
    [items.ReLU]
    points = 5
    [items.questions]
    points = 1                        # per question of alexnet_np/tools/questions.py

The keys of a case are those of the public cases of that item (``fd = true`` adds a sampled
finite-difference check); missing keys take the first public case's values.
"""

import json
import os

try:
    import tomllib  # Python 3.11+
except ModuleNotFoundError:  # Python 3.10: instructor files in JSON
    tomllib = None

from ...errors import UserError
from ...gradcheck import ConvCase, conv_case

LAYERS = ["ReLU", "Conv2d", "MaxPool2d", "LocalResponseNorm", "Linear", "Dropout", "Flatten",
          "SoftmaxCrossEntropy"]
FUNCTIONS = ["conv2d_forward_loops", "col2im"]
QUESTIONS = "questions"
CONV_ITEMS = {"Conv2d", "conv2d_forward_loops", "col2im"}


def _conv(name, fd=False):
    return {"case": conv_case(name), "fd": fd}


# The public cases of each item: what `alexnet-np grade student.py` runs without a file.
# Convolution cases come from the one table, gradcheck.CONV_CASES.
PUBLIC = {
    "ReLU": [{"shape": [2, 3, 4, 5]}],
    "Conv2d": [_conv("basic", fd=True), _conv("single-image"), _conv("non-square-pad1"),
               _conv("stride2"), _conv("groups2")],
    "MaxPool2d": [{"shape": [2, 3, 7, 7], "k": 3, "s": 2, "fd": True},
                  {"shape": [2, 3, 8, 8], "k": 2, "s": 2}],
    "LocalResponseNorm": [{"size": 5, "alpha": 0.5, "beta": 0.75, "k": 2.0, "shape": [2, 7, 3, 3]},
                          {"size": 3, "alpha": 0.3, "beta": 0.75, "k": 1.0, "shape": [2, 7, 3, 3]},
                          {"size": 5, "alpha": 1e-4, "beta": 0.75, "k": 2.0,
                           "shape": [2, 7, 3, 3]}],
    "Linear": [{"n": 4, "in": 6, "out": 5, "fd": True}, {"n": 1, "in": 6, "out": 5}],
    "Dropout": [{"p": 0.5, "shape": [40, 50]}, {"p": 0.2, "shape": [40, 50]}],
    "Flatten": [{"shape": [2, 3, 4, 5]}],
    "SoftmaxCrossEntropy": [{"n": 5, "classes": 10}],
    "conv2d_forward_loops": [_conv("basic"), _conv("single-image"), _conv("non-square-pad1"),
                             _conv("stride2"), _conv("groups2")],
    "col2im": [_conv("basic"), _conv("stride4-groups3"), _conv("non-square-pad1")],
}
ITEMS = LAYERS + FUNCTIONS  # code items, in the order they are graded and printed
DEFAULT_BLOCKED = ["alexnet_np"]


class Settings:
    """Everything one grading run needs: items with points and cases, seed, limits."""

    def __init__(self, items=None, seed=0, cpu=10.0, memory_mb=2048, file_mb=16,
                 blocked=(), protect=(), questions_points=None, source=None, user="nobody"):
        self.items = items  # None: grade what the submission defines; else {name: item}
        self.seed, self.cpu, self.memory_mb, self.file_mb = seed, cpu, memory_mb, file_mb
        self.blocked = sorted(set(DEFAULT_BLOCKED) | set(blocked))
        self.protect = [os.path.abspath(p) for p in protect]
        self.questions_points = questions_points  # None: questions graded only if answered
        self.source = source  # the instructor's file, if any
        self.user = user  # as root, run the child as this user ("" = as the grader's)

    def item(self, name):
        """``{"points", "cases"}`` of an item (the public cases, 1 point, by default)."""
        if self.items is None or name not in self.items:
            return {"points": 1.0, "cases": PUBLIC[name]}
        return self.items[name]


def _fail(path, text):
    raise UserError(f"{path}: {text}")


def _number(path, where, value, positive=True):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            (positive and not value > 0):
        _fail(path, f"{where} must be a {'positive ' if positive else ''}number, got {value!r}")
    return value


def _case(path, name, index, raw):
    """One instructor case, checked against the keys of the item's public cases."""
    where = f"items.{name}.cases[{index}]"
    if not isinstance(raw, dict):
        _fail(path, f"{where} must be a table/object, got {raw!r}")
    if name in CONV_ITEMS:
        fields = [f for f in ConvCase._fields if f != "name"]
        unknown = set(raw) - set(fields) - {"name", "fd"}
        if unknown:
            _fail(path, f"{where}: unknown keys {sorted(unknown)} (known: name, "
                        f"{', '.join(fields)}, fd)")
        base = PUBLIC[name][0]["case"]._asdict()
        values = {**base, "name": f"hidden-{index + 1}",
                  **{k: v for k, v in raw.items() if k != "fd"}}
        for field in fields:
            if not isinstance(values[field], int) or isinstance(values[field], bool) or \
                    values[field] < (0 if field == "padding" else 1):
                _fail(path, f"{where}: {field} must be a positive integer, got "
                            f"{values[field]!r}")
        case = ConvCase(**values)
        if case.c % case.groups or case.f % case.groups:
            _fail(path, f"{where}: c and f must be multiples of groups")
        if min(case.h, case.w) + 2 * case.padding < case.k:
            _fail(path, f"{where}: the kernel ({case.k}) is larger than the padded input")
        return {"case": case, "fd": bool(raw.get("fd", False))}
    template = PUBLIC[name][0]
    unknown = set(raw) - set(template) - {"fd"}
    if unknown:
        _fail(path, f"{where}: unknown keys {sorted(unknown)} (known: "
                    f"{', '.join(sorted(set(template) | {'fd'}))})")
    case = {**{k: v for k, v in template.items() if k != "fd"}, **raw}
    for key, value in case.items():
        if key == "shape":
            if not isinstance(value, list) or not value or not all(
                    isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value):
                _fail(path, f"{where}: shape must be a list of positive integers")
        elif key != "fd":
            _number(path, f"{where}.{key}", value, positive=key not in ("p",))
    return case


def load_settings(path=None, cpu=None, memory_mb=None, seed=None):
    """Settings from an instructor's TOML/JSON file (or the public defaults); the command
    line's ``cpu``, ``memory_mb`` and ``seed`` override the file's when given."""
    raw = {}
    if path is not None:
        if not os.path.isfile(path):
            raise UserError(f"{path}: no such configuration file")
        if tomllib is None and not path.endswith(".json"):
            _fail(path, "TOML needs Python 3.11 or newer: write the file as JSON (.json)")
        bad = (json.JSONDecodeError, UnicodeDecodeError) + \
            ((tomllib.TOMLDecodeError,) if tomllib else ())
        try:
            with open(path, "rb") as f:
                raw = json.load(f) if path.endswith(".json") else tomllib.load(f)
        except bad as err:
            _fail(path, f"not valid {'JSON' if path.endswith('.json') else 'TOML'}: {err}")
        if not isinstance(raw, dict):
            _fail(path, "must hold a table/object at the top")
    unknown = set(raw) - {"seed", "limits", "sandbox", "items"}
    if unknown:
        _fail(path, f"unknown keys {sorted(unknown)} (known: seed, limits, sandbox, items)")
    limits, sandbox = raw.get("limits", {}), raw.get("sandbox", {})
    settings = Settings(
        seed=int(_number(path, "seed", raw.get("seed", 0), positive=False)),
        cpu=float(_number(path, "limits.cpu", limits.get("cpu", 10.0))),
        memory_mb=int(_number(path, "limits.memory_mb", limits.get("memory_mb", 2048))),
        file_mb=int(_number(path, "limits.file_mb", limits.get("file_mb", 16))),
        blocked=[str(m) for m in sandbox.get("blocked_modules", [])],
        protect=[str(p) for p in sandbox.get("protect", [])],
        user=str(sandbox.get("user", "nobody")), source=path)
    if "items" in raw:
        if not isinstance(raw["items"], dict) or not raw["items"]:
            _fail(path, "items must be a table of items")
        settings.items = {}
        for name, item in raw["items"].items():
            if not isinstance(item, dict):
                _fail(path, f"items.{name} must be a table/object")
            points = float(_number(path, f"items.{name}.points", item.get("points", 1)))
            if name == QUESTIONS:
                settings.questions_points = points
                continue
            if name not in PUBLIC:
                _fail(path, f"unknown item {name!r} (known: {', '.join(ITEMS + [QUESTIONS])})")
            cases = [_case(path, name, i, c) for i, c in enumerate(item.get("cases", []))]
            if item.get("public", True):
                cases = PUBLIC[name] + cases
            if not cases:
                _fail(path, f"items.{name}: public = false and no cases: nothing to grade")
            settings.items[name] = {"points": points, "cases": cases}
    if cpu is not None:
        settings.cpu = cpu
    if memory_mb is not None:
        settings.memory_mb = memory_mb
    if seed is not None:
        settings.seed = seed
    return settings
