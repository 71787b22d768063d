"""The package's imports: the reading path needs no Numba, and no module imports itself back.

The reading path (layers/, model.py, optim.py, gradcheck.py, the data loaders, checkpoint.py and
train.py on the reference layers) must run with NumPy, Pillow and Matplotlib alone: Numba often
lags new Python releases and does not exist in browser Pythons, and a student should still be
able to learn from the reference code there.
"""

import ast
import os
import pkgutil
import subprocess
import sys

import pytest

# Not `import alexnet_np` here: a cycle must fail one test, not the whole module's collection.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.join(ROOT, "alexnet_np")

# A meta-path finder placed first: any import of numba or numba_cuda fails, as it would on a
# Python that has no Numba.
NO_NUMBA = """
import importlib.abc
import sys


class NoNumba(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("numba", "numba_cuda"):
            raise ImportError(f"{name} is blocked: this test runs as if Numba were missing")
        return None


sys.meta_path.insert(0, NoNumba())
"""

READING_PATH = """
import os
import sys

import numpy as np

import alexnet_np
from alexnet_np import SGD, TrainSettings, build_model, load_dataset, train
from alexnet_np.checkpoint import load_checkpoint
from alexnet_np.gradcheck import TOLERANCE, check_layer
from alexnet_np.layers import Conv2d, Linear

model = build_model("micro", num_classes=10, seed=0)
assert type(model["conv1"]) is Conv2d and type(model["fc8"]) is Linear, model
rng = np.random.default_rng(0)
x = rng.standard_normal((2, 3, 15, 15)).astype(np.float32)
before = model.params["fc8.W"].copy()
loss, logits = model.loss_and_backward(x, np.array([1, 2]))
assert logits.shape == (2, 10) and np.isfinite(loss)
SGD(model.params, lr=0.1).step(model.grads)
assert not np.array_equal(model.params["fc8.W"], before), "the SGD step changed nothing"

conv = Conv2d(2, 3, 3, padding=1, rng=rng, dtype=np.float64, std=1.0)
errors = check_layer(conv, rng.standard_normal((1, 2, 5, 5)), rng)
assert max(errors.values()) < TOLERANCE, errors

out = sys.argv[1]
ds = load_dataset("synthetic", 18, synthetic_train=40, synthetic_val=20,
                  cache_dir=os.path.join(out, "cache"), verbose=False)
assert ds.train_images.shape == (40, 18, 18, 3) and len(ds.val_labels) == 20
summary = train(TrainSettings(arch="micro", epochs=1, batch_size=8, max_steps=2, fast=False,
                              out=os.path.join(out, "run"), progress=False),
                dataset=ds, log=lambda message: None)
assert summary["step"] == 2, summary
params = load_checkpoint(os.path.join(out, "run", "last.npz"))[0]
assert set(params) == set(model.params)

assert not [m for m in sys.modules if m.split(".")[0] in ("numba", "numba_cuda")]
print("reading path ok without numba")
"""


def run_python(code, *args, timeout=300):
    env = dict(os.environ, MPLBACKEND="Agg",
               PYTHONPATH=os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")])))
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=timeout)


def test_reading_path_runs_without_numba(tmp_path):
    done = run_python(NO_NUMBA + READING_PATH, str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "reading path ok without numba" in done.stdout


def test_the_blocker_blocks():
    """The test above means something only if the finder really stops Numba."""
    done = run_python(NO_NUMBA + "import alexnet_np\nalexnet_np.build_model('micro', fast=True)")
    assert done.returncode != 0
    assert "numba is blocked" in done.stderr


def module_names():
    return ["alexnet_np"] + [m.name for m in pkgutil.walk_packages([PACKAGE], "alexnet_np.")]


def module_path(name):
    rel = name.split(".")[1:]
    base = os.path.join(PACKAGE, *rel)
    return os.path.join(base, "__init__.py") if os.path.isdir(base) else base + ".py"


def top_level_imports(name):
    """The package modules that ``name`` imports when it is imported (module level only)."""
    is_package = module_path(name).endswith("__init__.py")
    tree = ast.parse(open(module_path(name), encoding="utf-8").read())
    found = set()
    for node in tree.body:  # module level only: imports inside functions run later
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("alexnet_np")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                parts = name.split(".")[: len(name.split(".")) - node.level + is_package]
                base = ".".join(parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            if not base.startswith("alexnet_np"):
                continue
            for alias in node.names:  # `from .x import y`: y may itself be a module
                sub = f"{base}.{alias.name}"
                found.add(sub if os.path.exists(module_path(sub)) else base)
    # importing a.b.c runs a.b's __init__ first, unless a.b is a package this module is in
    own = {".".join(name.split(".")[:i]) for i in range(1, len(name.split(".")) + 1)}
    for m in list(found):
        parts = m.split(".")
        found |= {".".join(parts[:i]) for i in range(2, len(parts))} - own
    return found


def test_no_import_cycle():
    """Module-level imports between the package's modules form no cycle, not even one that
    happens to work because of the order in which the modules are first imported."""
    names = set(module_names())
    graph = {n: {m for m in top_level_imports(n) if m in names} for n in names}
    state = {}  # name -> "open" while on the current path, "done" after

    def visit(n, path):
        state[n] = "open"
        for m in sorted(graph[n]):
            if state.get(m) == "open":
                cycle = path[path.index(m):] + [m]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if m not in state:
                visit(m, path + [m])
        state[n] = "done"

    for n in sorted(names):
        if n not in state:
            visit(n, [n])


# One Python process pays for NumPy, Pillow and Numba once, then forks a child per module: each
# child imports its module before anything else of the package, as a fresh interpreter would.
FORK_EACH = """
import importlib, os, sys
import matplotlib.pyplot, numba.cuda, numpy, PIL.Image  # noqa: F401 - third-party, paid once

failed = 0
for name in sys.argv[1:]:
    pid = os.fork()
    if pid == 0:
        try:
            importlib.import_module(name)
        except BaseException as err:
            print(f"{name}: {type(err).__name__}: {err}", flush=True)
            os._exit(1)
        os._exit(0)
    failed += os.waitpid(pid, 0)[1] != 0
sys.exit(1 if failed else 0)
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork (Linux, macOS)")
def test_every_module_imports_first():
    """Each module imported first, on its own: a cycle or a missing name shows up as an
    ImportError whichever module a user happens to import first."""
    names = module_names()
    done = run_python(FORK_EACH, *names)
    assert done.returncode == 0, done.stdout + done.stderr
