"""The grader's child process: the only place where a student's code ever runs.

:mod:`.sandbox` starts it as ``python -I -B runner.py SETUP_JSON`` with a fresh temporary folder
as its working directory, holding a copy of the submission (and of this file). It uses the
standard library and NumPy only: it never imports alexnet_np, and it stops the submission from
doing so. In this order, before any student code runs:

1. resource limits: CPU seconds (the soft limit is moved forward for each item, the hard limit
   caps the whole run), address space, size of any file written, and processes;
2. the protocol channel: private copies of stdin/stdout; file descriptor 1 then points at
   stderr, so that ``print`` in the submission cannot garble the answers;
3. NumPy is imported, and the functions the protocol needs are bound here (a submission that
   patches ``np.savez`` or ``np.load`` changes nothing for the runner);
4. as root, the child becomes an unprivileged user (``nobody``) where that user can run the
   interpreter: the operating system then protects the instructor's files;
5. an audit hook (PEP 578; it cannot be removed from Python) refuses, and records, the
   import of a blocked module (alexnet_np, ...), reading a protected path (the reference
   package, the instructor's files), writing, renaming or deleting outside the folder,
   starting a process, signalling another process and opening network sockets (a finder
   first on ``sys.meta_path`` refuses the blocked modules too);
6. the submission's files are imported.

Then a loop: read a request, run the student's code, answer. A message is an 8-byte length
followed by an ``.npz`` archive (``allow_pickle=False`` on both sides) whose ``meta`` entry is
a JSON string. The parent treats every answer as untrusted data: it computes the reference
itself and checks the shape, dtype and values of each array it receives.
"""

import importlib.util
import io
import json
import os
import resource
import struct
import sys
import traceback

MB = 1024 * 1024
# Set when the runner starts (the block at the end); importing this module runs nothing.
SETUP = {}  # the parent's settings: limits, files, names wanted, blocked modules, paths
ATTEMPTS = []  # what the audit hook refused: [(category, text)]


def set_limits():
    """Set every limit this system allows; returns the names of those it refused (macOS, for
    one, does not take RLIMIT_AS), which the parent reports."""
    mb_memory, mb_file = SETUP["memory_mb"] * MB, SETUP["file_mb"] * MB
    wanted = [("cpu", resource.RLIMIT_CPU, (int(SETUP["cpu_import"]), int(SETUP["cpu_total"]))),
              ("memory", resource.RLIMIT_AS, (mb_memory, mb_memory)),
              ("file size", resource.RLIMIT_FSIZE, (mb_file, mb_file)),
              ("core files", resource.RLIMIT_CORE, (0, 0)),
              # counted per user, and not enforced for root: the audit hook below refuses
              # new processes, and the parent kills the whole process group when it is done
              ("processes", resource.RLIMIT_NPROC, (SETUP["nproc"], SETUP["nproc"]))]
    refused = []
    for name, which, value in wanted:
        try:
            resource.setrlimit(which, value)
        except (ValueError, OSError):
            refused.append(name)
    return refused


class SandboxViolation(PermissionError):
    """Raised by the audit hook: the submission tried something the grader does not allow."""


# ------------------------------------------------------------------------------------------
# The audit hook.
# ------------------------------------------------------------------------------------------

WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
PROCESS_EVENTS = {"os.fork", "os.forkpty", "os.exec", "os.posix_spawn", "os.spawn",
                  "os.system", "subprocess.Popen", "os.killpg", "pty.spawn"}
PATH_EVENTS = {"os.remove": 1, "os.rmdir": 1, "os.mkdir": 1, "os.chmod": 1, "os.chown": 1,
               "os.truncate": 1, "os.utime": 1, "shutil.rmtree": 1, "os.rename": 2,
               "os.link": 2, "os.symlink": 2}


def _real(path):
    try:
        return os.path.realpath(os.fsdecode(os.fspath(path)))
    except (TypeError, ValueError):
        return None


def _under(path, folder):
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _refuse(category, text):
    ATTEMPTS.append((category, text))
    raise SandboxViolation(f"the grader does not allow this: {text}")


def audit(event, args):
    if event == "import":
        top = str(args[0]).split(".")[0]
        if top in BLOCKED:
            _refuse("reference" if top in REFERENCE else "forbidden", f"import {args[0]}")
    elif event == "open":
        path, mode, flags = args
        if isinstance(path, int):
            return
        real = _real(path)
        if real is None:
            return
        if any(_under(real, p) for p in PROTECTED):
            _refuse("reference", f"read {real}")
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or \
            (isinstance(flags, int) and flags & WRITE_FLAGS)
        if writing and not _under(real, FOLDER) and real != os.devnull:
            _refuse("forbidden", f"write {real} (outside the submission's folder)")
    elif event in PATH_EVENTS:
        for path in args[:PATH_EVENTS[event]]:
            if isinstance(path, int):
                continue
            real = _real(path)
            if real is None or not _under(real, FOLDER):
                _refuse("forbidden", f"{event} {real} (outside the submission's folder)")
    elif event in PROCESS_EVENTS:
        _refuse("forbidden", f"start or signal another process ({event})")
    elif event == "os.kill" and args[0] not in (0, os.getpid()):
        _refuse("forbidden", f"signal another process (os.kill {args[0]})")
    elif event.startswith("socket.") and event != "socket.__new__":
        _refuse("forbidden", f"use the network ({event})")


class ImportBlocker:
    """First on ``sys.meta_path``: ``importlib.import_module`` does not raise the "import"
    audit event, but every import asks the finders on the meta path."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        top = name.split(".")[0]
        if top in BLOCKED:
            _refuse("reference" if top in REFERENCE else "forbidden", f"import {name}")
        return None


# ------------------------------------------------------------------------------------------
# The protocol.
# ------------------------------------------------------------------------------------------

def receive():
    head = CHANNEL_IN.read(8)
    if len(head) < 8:
        raise SystemExit(0)  # the parent has gone
    size = struct.unpack(">Q", head)[0]
    data = b""
    while len(data) < size:
        chunk = CHANNEL_IN.read(size - len(data))
        if not chunk:
            raise SystemExit(0)
        data += chunk
    with LOAD(io.BytesIO(data), allow_pickle=False) as archive:
        arrays = {k: archive[k] for k in archive.files}
    return json.loads(str(arrays.pop("meta"))), arrays


def send(meta, arrays=None):
    meta = dict(meta, attempts=[list(a) for a in ATTEMPTS])
    buffer = io.BytesIO()
    SAVEZ(buffer, meta=ARRAY(json.dumps(meta)), **(arrays or {}))
    data = buffer.getvalue()
    CHANNEL_OUT.write(struct.pack(">Q", len(data)) + data)


def where(err):
    """``file.py:line`` of the deepest frame in the submission (else the deepest of all)."""
    frames = traceback.extract_tb(err.__traceback__)
    mine = [f for f in frames if _under(os.path.realpath(f.filename), FOLDER)
            and os.path.basename(f.filename) != "runner.py"]
    frame = (mine or frames or [None])[-1]
    return "" if frame is None else f"{os.path.basename(frame.filename)}:{frame.lineno}"


def failure(err):
    """The answer for an exception raised by the student's code."""
    if isinstance(err, SandboxViolation):
        kind = "blocked"
    elif isinstance(err, NotImplementedError):
        kind = "todo"
    elif isinstance(err, MemoryError):
        kind = "memory"
    elif isinstance(err, SystemExit):
        kind = "exit"
    elif isinstance(err, SyntaxError):
        kind = "syntax"
        return {"error": f"{os.path.basename(err.filename or '?')}, line {err.lineno}: "
                         f"syntax error: {err.msg}", "kind": kind,
                "where": f"{os.path.basename(err.filename or '?')}:{err.lineno}"}
    else:
        kind = "exception"
    try:
        text = f"{type(err).__name__}: {err}"[:500]
    except Exception:  # an exception whose __str__ raises
        text = type(err).__name__
    return {"error": text, "kind": kind, "where": where(err)}


def as_array(value, what):
    """A plain numeric array, or a TypeError that says what the student returned."""
    if value is None:
        raise TypeError(f"{what} returned None (a missing `return`?)")
    try:
        array = ASARRAY(value)
    except Exception as err:  # anything the student returned
        raise TypeError(f"{what} returned a {type(value).__name__}, not an array") from err
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{what} returned a {type(value).__name__} of dtype {array.dtype}, "
                        "not an array of numbers")
    if array.nbytes > 64 * MB:
        raise TypeError(f"{what} returned {array.nbytes // MB} MB, far more than expected")
    return ARRAY(array, copy=True)


def array_dict(value, prefix, what):
    """``{prefix + key: array}`` for a dict of arrays, plus a description of what it was."""
    if not isinstance(value, dict):
        return {}, type(value).__name__
    out = {}
    for key, v in value.items():
        if isinstance(key, str) and key.isidentifier():
            out[prefix + key] = as_array(v, f"{what}['{key}']")
    return out, "dict"


# ------------------------------------------------------------------------------------------
# The student's code.
# ------------------------------------------------------------------------------------------

def import_submission():
    """Import each file in order; return ``{name: object}`` for the names the parent wants."""
    folder = os.path.join(FOLDER, "submission")
    sys.path.insert(0, folder)  # the student's own helper modules
    found = {}
    for filename in SETUP["files"]:
        name = os.path.splitext(filename)[0]
        if name in sys.modules:  # a file called like a loaded module (random.py, types.py)
            name = f"submission_{name}"
        spec = importlib.util.spec_from_file_location(name, os.path.join(folder, filename))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        for wanted in SETUP["wanted"]:
            if wanted not in found and hasattr(module, wanted):
                found[wanted] = getattr(module, wanted)
    return found


def plain_answers(answers):
    """The student's ANSWERS as ``{id: float}``; anything else is named, never passed on."""
    if not isinstance(answers, dict):
        return {}, [f"ANSWERS is a {type(answers).__name__}, not a dict"]
    plain, problems = {}, []
    for key, value in list(answers.items())[:1000]:
        if isinstance(value, (int, float, np.integer, np.floating)) \
                and not isinstance(value, bool):
            plain[str(key)] = float(value)
        else:
            problems.append(f"{str(key)[:40]}: a {type(value).__name__}, not a number")
    return plain, problems


def handle(request, arrays, names, objects):
    """Run one request; returns ``(meta, arrays)``."""
    op = request["op"]
    if op == "cpu":
        used = resource.getrusage(resource.RUSAGE_SELF)
        now = used.ru_utime + used.ru_stime
        hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
        soft = min(int(now + request["seconds"]) + 1, hard)
        resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
        return {}, {}
    if op == "new":
        kwargs = dict(request["kwargs"])
        if request.get("rng_seed") is not None:
            kwargs["rng"] = DEFAULT_RNG(request["rng_seed"])
        obj = names[request["name"]](*request["args"], **kwargs)
        objects[request["id"]] = obj
        params, kind = array_dict(getattr(obj, "params", None), "params.", "params")
        return {"params_type": kind}, params
    obj = objects.get(request.get("id"))
    if op == "mode":
        method = getattr(obj, "train" if request["training"] else "eval", None)
        if callable(method):
            method()
        else:
            obj.training = request["training"]
        return {}, {}
    if op == "forward":
        params = getattr(obj, "params", None)
        for key, value in arrays.items():
            if key.startswith("params.") and isinstance(params, dict):
                params[key[len("params."):]] = value.copy()
        x = arrays["x"].copy()
        args = (x, arrays["labels"].copy()) if "labels" in arrays else (x,)
        out = as_array(obj.forward(*args), "forward")
        return {}, {"out": out, "x_after": ARRAY(x, copy=True)}
    if op == "backward":
        dx = as_array(obj.backward(arrays["dout"].copy()) if "dout" in arrays
                      else obj.backward(), "backward")
        grads, kind = array_dict(getattr(obj, "grads", None), "grads.", "grads")
        return {"grads_type": kind}, {"dx": dx, **grads}
    if op == "call":
        args = [arrays[a["array"]].copy() if "array" in a else
                tuple(a["value"]) if isinstance(a["value"], list) else a["value"]
                for a in request["args"]]
        return {}, {"out": as_array(names[request["name"]](*args), request["name"])}
    raise ValueError(f"unknown request {op!r}")


def drop_privileges():
    """As root, become the unprivileged user the parent chose (it owns the folder)."""
    if SETUP["user"] is not None:
        uid, gid = SETUP["user"]
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)


def main():
    drop_privileges()
    sys.meta_path.insert(0, ImportBlocker)
    sys.addaudithook(audit)
    try:
        names = import_submission()
    except BaseException as err:  # whatever the import does is the student's
        send(failure(err))
        return
    answers, problems = plain_answers(names.pop("ANSWERS", {}))
    kinds = {n: "class" if isinstance(v, type) else "function" if callable(v) else "other"
             for n, v in names.items()}
    send({"names": kinds, "answers": answers, "answer_problems": problems,
          "limits_refused": LIMITS_REFUSED})
    objects = {}
    while True:
        request, arrays = receive()
        if request["op"] == "bye":
            return
        try:
            with ERRSTATE(all="ignore"):
                meta, out = handle(request, arrays, names, objects)
        except BaseException as err:  # report the student's failure, carry on
            send(failure(err))
            continue
        send(meta, out)


if __name__ == "__main__":
    # Steps 1 to 3 of the module docstring, before anything else.
    SETUP = json.loads(sys.argv[1])
    LIMITS_REFUSED = set_limits()
    sys.dont_write_bytecode = True
    CHANNEL_IN = os.fdopen(os.dup(0), "rb", buffering=0)
    CHANNEL_OUT = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    os.dup2(2, 1)
    sys.stdin = open(os.devnull)  # lives as long as the process

    import numpy as np  # only after the limits are in place

    ASARRAY, SAVEZ, LOAD, ARRAY = np.asarray, np.savez, np.load, np.array
    DEFAULT_RNG, ERRSTATE = np.random.default_rng, np.errstate
    FOLDER = os.path.realpath(os.getcwd())
    BLOCKED = set(SETUP["blocked_modules"])
    PROTECTED = [os.path.realpath(p) for p in SETUP["protected"]]
    REFERENCE = set(SETUP["reference_modules"])
    main()
    CHANNEL_OUT.flush()
    os._exit(0)  # no interpreter shutdown: nothing the submission registered runs after us
