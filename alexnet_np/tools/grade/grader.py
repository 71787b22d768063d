"""Grade one submission: plan the items, run them in one child, turn everything into verdicts.

A submission is a Python file, or a folder of them (one file per layer, or one ``layers.py``
with all of them, plus the student's own helpers). The first file, in name order, that
defines a name provides it. Per item: ``pass`` (all comparisons within tolerance), ``FAIL``
(wrong numbers, with a hint), ``missing``, ``error`` (the student's code raised), ``timeout``,
``crashed`` (exit, signal, out of memory) or ``forbidden`` (used the reference implementation,
or tried something the sandbox refuses). A crash or timeout costs that item only: the next
item gets a fresh child.
"""

import importlib
import os
import time
import zlib

import numpy as np

from ...errors import UserError
from .checks import CHECKS, Inconsistent
from .config import ITEMS, LAYERS, Settings
from .sandbox import Child, ChildGone, Limits, StudentError, forbidden_text

PACKAGE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REFERENCE_MODULES = ["alexnet_np"]


def load_questions():
    """``alexnet_np.tools.questions`` (QUESTIONS, check_answers), or None where it is absent."""
    try:
        return importlib.import_module("alexnet_np.tools.questions")
    except ModuleNotFoundError as err:
        if err.name in ("alexnet_np.tools.questions",):
            return None
        raise


def submission_files(path):
    """The ``.py`` files of a submission (a file, or a folder's top level), in import order."""
    if os.path.isfile(path):
        if not path.endswith(".py"):
            raise UserError(f"{path} is not a Python file (.py)")
        return [os.path.abspath(path)]
    if os.path.isdir(path):
        files = sorted(f for f in os.listdir(path) if f.endswith(".py")
                       and os.path.isfile(os.path.join(path, f)))
        if not files:
            raise UserError(f"{path} holds no .py file")
        return [os.path.abspath(os.path.join(path, f)) for f in files]
    raise UserError(f"{path} does not exist")


def protected_paths(settings, extra=()):
    """What the child may not read: the reference package, the repository's solutions file,
    the instructor's configuration file, folders the instructor names."""
    paths = [PACKAGE, *settings.protect, *extra]
    solutions = os.path.join(os.path.dirname(PACKAGE), "lessons", "exercises", "solutions.py")
    if os.path.exists(solutions):
        paths.append(solutions)
    if settings.source:
        paths.append(os.path.abspath(settings.source))
    return paths


def _row(name, kind, status, hint, points, graded=True, worst=None, errors=None):
    return {"item": name, "kind": kind, "status": status, "hint": hint, "worst": worst,
            "graded": graded, "max_score": points if graded else 0.0,
            "score": points if graded and status == "pass" else 0.0, "errors": errors or {}}


def student_error(err, limits):
    """``(status, hint)`` for an exception the student's code raised."""
    where = f" (at {err.where})" if err.where else ""
    if err.kind == "todo":
        return "error", f"not written yet ({err.text}): fill in the TODO"
    if err.kind == "memory":
        return "crashed", f"ran out of memory (the limit is {limits.memory_mb} MB){where}"
    if err.kind == "exit":
        return "crashed", f"called exit() ({err.text}){where}"
    if err.kind == "blocked":
        return "forbidden", f"{err.text}{where}"
    return "error", f"raised {err.text}{where}"


class Session:
    """The current child of one submission; a new one after a crash or a timeout."""

    def __init__(self, files, wanted, limits, n_items, settings, protect):
        self.args = (files, wanted, limits, n_items, settings.blocked, REFERENCE_MODULES,
                     protected_paths(settings, protect))
        self.child = Child(*self.args)
        self.first = self.child

    def current(self):
        if not self.child.alive and self.child.import_error is None:
            self.child.close()
            self.child = Child(*self.args)
        return self.child

    def close(self):
        self.child.close()
        if self.first is not self.child:
            self.first.close()


def _code_item(session, name, kind, points, settings, limits):
    """Run one item's check in the child; the result row."""
    child = session.current()
    if child.import_error is not None:
        return _row(name, kind, *child.import_error, points)
    if child.attempts:
        return _row(name, kind, "forbidden", forbidden_text(child.attempts), points)
    found = child.names.get(name)
    if found is None:
        return _row(name, kind, "missing", f"no {kind} {name} in the submission", points)
    if found != kind:
        return _row(name, kind, "error", f"{name} must be a {kind}, it is a {found}", points)
    rng = np.random.default_rng([settings.seed, zlib.crc32(name.encode())])
    before = len(child.attempts)
    try:
        child.start_item()
        with np.errstate(all="ignore"):
            result = CHECKS[name](child, rng, settings.item(name)["cases"])
    except StudentError as err:
        status, hint = student_error(err, limits)
        result = {"status": status, "hint": hint}
    except ChildGone as gone:
        result = {"status": gone.status, "hint": gone.text}
    except Inconsistent as err:
        result = {"status": "FAIL", "hint": str(err)}
    if len(child.attempts) > before:
        result = {"status": "forbidden", "hint": forbidden_text(child.attempts[before:])}
    return _row(name, kind, result["status"], result["hint"], points,
                worst=result.get("worst"), errors=result.get("errors"))


def _question_items(child, questions, settings):
    """One row per question: ``check_answers`` gets plain floats read back from the child."""
    if questions is None:
        return []
    if settings.items is not None and settings.questions_points is None:
        return []  # an assignment without questions
    points = settings.questions_points if settings.questions_points is not None else 1.0
    if settings.questions_points is None and not child.answers and not child.answer_problems:
        return []  # practising without answers: the questions are not graded
    if child.import_error is not None:
        return [_row(f"question {q}", "question", *child.import_error, points)
                for q in questions.QUESTIONS]
    answers = {k: v for k, v in child.answers.items() if k in questions.QUESTIONS}
    verdicts = {str(qid): (bool(ok), str(msg))
                for qid, ok, msg in questions.check_answers(answers)}
    rows = []
    for qid in questions.QUESTIONS:
        if qid not in answers:
            rows.append(_row(f"question {qid}", "question", "missing",
                             f"no answer: add ANSWERS[{qid!r}] = <number>", points))
        else:
            ok, msg = verdicts.get(qid, (False, "not checked"))
            rows.append(_row(f"question {qid}", "question", "pass" if ok else "FAIL",
                             "" if ok else msg, points))
    return rows


def grade_submission(path, settings=None, only=None, protect=()):
    """Grade the submission at ``path`` (a file or a folder).

    ``settings`` (:class:`~.config.Settings`): items, points, cases, seed, limits; by default
    the public cases of whatever the submission defines. ``only``: item names to grade.
    ``protect``: extra paths the submission may not read (the batch folder). Returns the
    report: a dict with ``items`` (one row each: item, kind, status, hint, worst, graded,
    score, max_score, errors), ``score``, ``max_score``, ``passed``, ``import``, ``limits``.
    """
    settings = settings or Settings()
    start = time.monotonic()
    files = submission_files(path)
    names = list(settings.items) if settings.items is not None else list(ITEMS)
    if only:
        unknown = [n for n in only if n not in ITEMS]
        if unknown:
            raise UserError(f"unknown item {unknown[0]!r} (known: {', '.join(ITEMS)})")
        names = [n for n in names if n in only]
    names = [n for n in ITEMS if n in names]
    questions = load_questions() if not only else None
    if questions is None and settings.questions_points is not None and not only:
        raise UserError("the configuration grades questions, but this alexnet-np has no "
                        "alexnet_np/tools/questions.py")
    limits = Limits(cpu=settings.cpu, memory_mb=settings.memory_mb, file_mb=settings.file_mb,
                    user=settings.user)
    session = Session(files, names + ["ANSWERS"], limits, len(names) + 1, settings, protect)
    try:
        first = session.child
        planned = settings.items is not None
        rows = []
        if not planned and first.import_error is not None:
            names = []  # what it defines is unknown: one row for the file
        for name in names:
            kind = "class" if name in LAYERS else "function"
            points = settings.item(name)["points"]
            if not planned and first.names.get(name) is None:
                rows.append(_row(name, kind, "missing", f"no {kind} {name} in the submission",
                                 points, graded=False))
                continue
            rows.append(_code_item(session, name, kind, points, settings, limits))
        rows += _question_items(first, questions, settings)
        if first.import_error is not None and not rows:
            rows.append(_row("import", "file", *first.import_error, 0.0))
        elif not any(r["graded"] for r in rows):
            raise UserError(f"{path} defines none of the graded items ({', '.join(names)}"
                            f"{', ANSWERS' if questions else ''})")
    finally:
        session.close()
    graded = [r for r in rows if r["graded"]]
    import_status = "ok" if first.import_error is None else first.import_error[0]
    return {
        "submission": os.path.abspath(path),
        "passed": bool(graded) and all(r["status"] == "pass" for r in graded),
        "score": sum(r["score"] for r in graded),
        "max_score": sum(r["max_score"] for r in graded),
        "items": rows,
        "import": {"status": import_status,
                   "message": "" if first.import_error is None else first.import_error[1]},
        "seed": settings.seed, "config": settings.source,
        "limits": {**limits.as_dict(), "not_set_here": first.limits_refused},
        "seconds": round(time.monotonic() - start, 2),
    }
