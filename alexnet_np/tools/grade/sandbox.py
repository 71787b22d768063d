"""The parent's side of the sandbox: start the child, talk to it, stop it whatever it does.

One :class:`Child` per submission runs every item of it (starting Python and NumPy once costs
more than most items). The child is ``python -I -B runner.py`` (isolated mode: no PYTHON*
variables, no user site-packages, no script folder on ``sys.path``) with a scrubbed
environment, in its own process group and session, with a fresh temporary folder as working
directory. Every wait has a wall-clock deadline; on a deadline, on a crash and at the end the
whole process group is killed (SIGKILL) and the folder removed.

Everything the child sends is untrusted data: ``np.load(..., allow_pickle=False)``, a size
cap, numeric dtypes only. The verdicts are computed here, from the parent's own reference.
"""

import functools
import io
import json
import os
import pwd
import select
import shutil
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np

RUNNER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "runner.py")
MAX_MESSAGE = 256 * 1024 * 1024  # bytes: an answer larger than this is refused
ENV_KEEP = ["PATH", "LANG", "LC_ALL", "SYSTEMROOT", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"]


class Limits:
    """The child's limits. ``cpu`` is per item (seconds of CPU time); the wall-clock deadline
    of an item is ``wall_factor * cpu + wall_extra`` (a waiting or sleeping child uses no CPU).
    """

    def __init__(self, cpu=10.0, memory_mb=2048, file_mb=16, nproc=64, wall_factor=3.0,
                 wall_extra=5.0, user="nobody"):
        self.cpu, self.memory_mb, self.file_mb, self.nproc = cpu, memory_mb, file_mb, nproc
        self.wall_factor, self.wall_extra = wall_factor, wall_extra
        self.user = unprivileged_user(user)  # (uid, gid) to switch to, or None

    def wall(self, cpu=None):
        return self.wall_factor * (self.cpu if cpu is None else cpu) + self.wall_extra

    def as_dict(self):
        return {"cpu_seconds_per_item": self.cpu, "memory_mb": self.memory_mb,
                "file_mb": self.file_mb, "processes": self.nproc,
                "wall_seconds_per_item": self.wall(),
                "user": "grader's own" if self.user is None else f"uid {self.user[0]}"}


class ChildGone(Exception):
    """The child stopped answering: ``status`` is timeout or crashed; ``text`` says how."""

    def __init__(self, status, text):
        super().__init__(text)
        self.status, self.text = status, text


class StudentError(Exception):
    """The student's code raised; ``kind`` is exception, todo, memory, exit, blocked, syntax."""

    def __init__(self, meta):
        super().__init__(str(meta["error"]))
        self.kind, self.text = str(meta.get("kind", "exception")), str(meta["error"])[:500]
        self.where = str(meta.get("where", ""))[:200]


def forbidden_text(attempts):
    """The verdict's sentence for what the audit hook refused."""
    reference = [t for c, t in attempts if c == "reference"]
    if reference:
        return (f"uses the reference implementation ({reference[0]}): a submission must "
                "compute everything itself")
    if not attempts:
        return "tried something a submission may not do"
    return f"tried something a submission may not do: {attempts[0][1]}"


def _signal_name(number):
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def death(code, limits):
    """``(status, sentence)`` for a child that ended with return code ``code``."""
    if code is None:
        return "crashed", "the grading process stopped answering"
    if code >= 0:
        return "crashed", (f"the process exited (status {code}) in the middle of grading: "
                           "the code calls exit() or os._exit()")
    name = _signal_name(-code)
    if name == "SIGXCPU":
        return "timeout", f"used more than its {limits.cpu:g} s of CPU time (an endless loop?)"
    if name == "SIGXFSZ":
        return "crashed", f"wrote a file larger than the {limits.file_mb} MB limit"
    if name == "SIGSEGV":
        return "crashed", "crashed with a segmentation fault (SIGSEGV)"
    if name == "SIGKILL":
        return "crashed", "was killed (SIGKILL): out of memory, or over its CPU time"
    return "crashed", f"crashed ({name})"


def _open_to_others(path):
    """True if every folder on the way to ``path`` is searchable and ``path`` readable by
    any user (so that an unprivileged child can run the interpreter and import NumPy)."""
    path = os.path.realpath(path)
    mode = os.stat(path).st_mode
    if not mode & stat.S_IROTH:
        return False
    folder = os.path.dirname(path)
    while True:
        if not os.stat(folder).st_mode & stat.S_IXOTH:
            return False
        parent = os.path.dirname(folder)
        if parent == folder:
            return True
        folder = parent


@functools.cache
def unprivileged_user(name="nobody"):
    """``(uid, gid)`` the child switches to when the grader runs as root, or None.

    Only where that user can read the interpreter, the standard library and NumPy: otherwise
    the child keeps the grader's user (the audit hook still refuses writes outside its
    folder, but the operating system no longer backs it up; see docs/grading.md).
    """
    if not name or os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return None
    needed = [sys.executable, os.path.dirname(os.__file__), os.path.dirname(np.__file__)]
    if not all(_open_to_others(p) for p in needed):
        return None
    return entry.pw_uid, entry.pw_gid


def _environment(folder):
    env = {k: os.environ[k] for k in ENV_KEEP if k in os.environ}
    env.update(HOME=folder, TMPDIR=folder, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
               MKL_NUM_THREADS="1", NUMBA_NUM_THREADS="1", PYTHONHASHSEED="0")
    return env


class Child:
    """A running child with a submission imported; use as a context manager.

    ``files`` are copied into ``<tmp>/submission/`` and imported in that order. ``wanted``
    are the names the parent asks for (classes, functions, ``ANSWERS``). After construction,
    ``import_error`` is None or a ``(status, text)`` pair, and ``names`` maps each wanted name
    found to ``"class"``, ``"function"`` or ``"other"``.
    """

    def __init__(self, files, wanted, limits, n_items, blocked, reference, protected):
        self.limits = limits
        self.folder = tempfile.mkdtemp(prefix="alexnet-np-grade-")
        self.proc = None
        self.attempts = []  # (category, text), every refusal so far
        self.import_error = None
        self.names, self.answers, self.answer_problems = {}, {}, []
        self.limits_refused = []  # limits this system would not set (reported)
        self._id = 0
        self.item_deadline = None  # set by start_item: one wall-clock deadline per item
        os.mkdir(os.path.join(self.folder, "submission"))
        for path in files:
            shutil.copyfile(path, os.path.join(self.folder, "submission",
                                               os.path.basename(path)))
        shutil.copyfile(RUNNER, os.path.join(self.folder, "runner.py"))
        setup = {"files": [os.path.basename(p) for p in files], "wanted": list(wanted),
                 "cpu_import": int(limits.cpu) + 1,
                 "cpu_total": int(limits.cpu * (n_items + 1)) + 2,
                 "memory_mb": int(limits.memory_mb), "file_mb": int(limits.file_mb),
                 "nproc": int(limits.nproc), "blocked_modules": sorted(blocked),
                 "reference_modules": sorted(reference), "protected": list(protected),
                 "user": limits.user}
        if limits.user is not None:  # the unprivileged child owns its folder, nothing else
            for folder, _, names in os.walk(self.folder):
                for path in [folder] + [os.path.join(folder, n) for n in names]:
                    os.chown(path, *limits.user)
        self.log = open(os.path.join(self.folder, "stderr.txt"), "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-B", "runner.py", json.dumps(setup)], cwd=self.folder,
            env=_environment(self.folder), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self.log, start_new_session=True, close_fds=True)
        os.set_blocking(self.proc.stdin.fileno(), False)
        try:
            meta, _ = self._receive(time.monotonic() + limits.wall())
        except ChildGone as gone:
            self.import_error = (gone.status, "while being imported, " + gone.text)
            return
        if "error" in meta:
            where = f"while being imported, at {meta.get('where') or '?'}"
            if meta["kind"] == "blocked" or self.attempts:
                self.import_error = ("forbidden", f"{forbidden_text(self.attempts)} ({where})")
            elif meta["kind"] == "exit":
                self.import_error = ("crashed", f"called exit() ({meta['error']}, {where})")
            elif meta["kind"] == "memory":
                self.import_error = ("crashed", f"ran out of memory (the limit is "
                                                f"{limits.memory_mb} MB, {where})")
            elif meta["kind"] == "syntax":
                self.import_error = ("error", meta["error"])
            else:
                self.import_error = ("error", f"{meta['error']} ({where})")
            return
        try:  # a submission can write into the channel: nothing here is trusted
            self.names = {str(k): str(v) for k, v in dict(meta.get("names", {})).items()}
            self.answers = {str(k): float(v) for k, v in dict(meta.get("answers", {})).items()
                            if isinstance(v, (int, float)) and not isinstance(v, bool)}
            self.answer_problems = [str(p) for p in meta.get("answer_problems", [])][:50]
            self.limits_refused = [str(p) for p in meta.get("limits_refused", [])]
        except (TypeError, ValueError, AttributeError):
            self.close_with(("crashed", "sent an unreadable answer while being imported: the "
                                        "submission wrote to the grader's channel"))

    # -- lifecycle ---------------------------------------------------------------------------

    def close_with(self, verdict):
        """Stop the child; every later request gets ``verdict`` (status, text)."""
        self.import_error = verdict
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    @property
    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def close(self):
        """Kill the process group, reap the child, remove the folder. Safe to call twice."""
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            for stream in (self.proc.stdin, self.proc.stdout):
                try:
                    stream.close()
                except OSError:
                    pass
            self.proc.wait()
        self.log.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def stderr_tail(self, size=400):
        """The end of what the child printed (student prints go there too)."""
        self.log.flush()
        try:
            with open(os.path.join(self.folder, "stderr.txt"), "rb") as f:
                f.seek(max(0, os.path.getsize(f.name) - size))
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    # -- the protocol ------------------------------------------------------------------------

    def _die(self, status, text):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()
        raise ChildGone(status, text)

    def _gone(self):
        """The child closed its end: wait for its exit status and say what happened."""
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        self._die(*death(code, self.limits))

    def _send(self, meta, arrays, deadline):
        buffer = io.BytesIO()
        np.savez(buffer, meta=np.array(json.dumps(meta)), **arrays)
        data = buffer.getvalue()
        data = struct.pack(">Q", len(data)) + data
        fd = self.proc.stdin.fileno()
        while data:
            left = deadline - time.monotonic()
            if left <= 0:
                self._die("timeout", self._timeout_text())
            _, ready, _ = select.select([], [fd], [], left)
            if ready:
                try:
                    data = data[os.write(fd, data):]
                except BlockingIOError:
                    continue
                except BrokenPipeError:
                    self._gone()

    def _read(self, size, deadline):
        fd = self.proc.stdout.fileno()
        chunks, got = [], 0
        while got < size:
            left = deadline - time.monotonic()
            if left <= 0:
                self._die("timeout", self._timeout_text())
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, min(size - got, 1 << 20))
            if not chunk:
                self._gone()
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def _timeout_text(self):
        return (f"not done within {self.limits.wall():g} s of wall-clock time (an endless "
                "loop, a sleep, or far too slow: vectorise with NumPy)")

    def _receive(self, deadline):
        size = struct.unpack(">Q", self._read(8, deadline))[0]
        if size > MAX_MESSAGE:
            self._die("crashed", f"sent an answer of {size} bytes, over the grader's limit")
        data = self._read(size, deadline)
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as archive:
                arrays = {k: archive[k] for k in archive.files}
            meta = json.loads(str(arrays.pop("meta")))
            if not isinstance(meta, dict):
                raise ValueError("meta is not a dict")
        except Exception as err:  # anything malformed is the child's fault
            self._die("crashed", f"sent an unreadable answer ({type(err).__name__}): the "
                                 "submission wrote to the grader's channel")
        attempts = meta.get("attempts")
        for item in (attempts if isinstance(attempts, list) else [])[len(self.attempts):]:
            if isinstance(item, list) and len(item) == 2:
                self.attempts.append((str(item[0]), str(item[1])[:300]))
        for name, array in arrays.items():
            if array.dtype.kind not in "biuf":
                self._die("crashed", f"sent {name} of dtype {array.dtype}")
        return meta, arrays

    def request(self, meta, arrays=None, cpu=None, expect=()):
        """Send one request and return ``(meta, arrays)``, ``arrays`` holding the names in
        ``expect``; raises StudentError or ChildGone."""
        if self.import_error is not None:
            raise ChildGone(*self.import_error)
        if not self.alive:
            self._gone()
        deadline = self.item_deadline or time.monotonic() + self.limits.wall(cpu)
        self._send(meta, arrays or {}, deadline)
        answer, out = self._receive(deadline)
        if "error" in answer:
            raise StudentError(answer)
        missing = [k for k in expect if k not in out]
        if missing:
            self._die("crashed", f"sent an answer without {missing[0]}: the submission wrote "
                                 "to the grader's channel")
        return answer, out

    def start_item(self, cpu=None):
        """A fresh CPU budget and wall-clock deadline for the next item (all its requests)."""
        self.item_deadline = None
        self.request({"op": "cpu", "seconds": self.limits.cpu if cpu is None else cpu})
        self.item_deadline = time.monotonic() + self.limits.wall(cpu)

    def next_id(self):
        self._id += 1
        return self._id


class RemoteLayer:
    """A student's layer living in the child, used like a layer from the parent.

    ``params`` is the parent's copy; after :meth:`set_params` it is sent with every forward
    pass, so that finite differences can perturb it in place (as with a local layer).
    ``input_changed`` says whether the last forward changed the array it was given.
    """

    def __init__(self, child, name, *args, rng_seed=None, **kwargs):
        self.child, self.id = child, child.next_id()
        meta, arrays = child.request({"op": "new", "id": self.id, "name": name,
                                      "args": list(args), "kwargs": kwargs,
                                      "rng_seed": rng_seed})
        self.params_type = str(meta.get("params_type", "?"))
        self.params = {k[len("params."):]: v for k, v in arrays.items()}
        self.grads, self.grads_type = {}, "?"
        self.input_changed = False
        self._send_params = False

    def set_params(self, **arrays):
        self.params.update({k: np.array(v, dtype=np.float64) for k, v in arrays.items()})
        self._send_params = True

    def mode(self, training):
        self.child.request({"op": "mode", "id": self.id, "training": bool(training)})

    def forward(self, x, labels=None):
        arrays = {"x": x}
        if labels is not None:
            arrays["labels"] = labels
        if self._send_params:
            arrays.update({f"params.{k}": v for k, v in self.params.items()})
        _, out = self.child.request({"op": "forward", "id": self.id}, arrays,
                                    expect=("out", "x_after"))
        after = out["x_after"]
        self.input_changed = after.shape != x.shape or not np.array_equal(after, x)
        return out["out"]

    def backward(self, dout=None):
        arrays = {} if dout is None else {"dout": dout}
        meta, out = self.child.request({"op": "backward", "id": self.id}, arrays,
                                       expect=("dx",))
        self.grads_type = str(meta.get("grads_type", "?"))
        self.grads = {k[len("grads."):]: v for k, v in out.items() if k.startswith("grads.")}
        return out["dx"]


def call(child, name, *args):
    """Call the student's function ``name``: arrays travel as arrays, the rest as JSON."""
    specs, arrays = [], {}
    for i, a in enumerate(args):
        if isinstance(a, np.ndarray):
            arrays[f"a{i}"] = a
            specs.append({"array": f"a{i}"})
        else:
            specs.append({"value": a})
    _, out = child.request({"op": "call", "name": name, "args": specs}, arrays,
                           expect=("out",))
    return out["out"]
