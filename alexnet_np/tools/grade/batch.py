"""Grade a folder of submissions: one CSV row and one report per student.

Each entry of the folder is one student: a sub-folder (their files) or a single ``.py`` file;
the student's name is the entry's name. ``jobs`` submissions are graded at a time (each in its
own child; the parent only waits and compares, so threads are enough).
"""

import csv
import os
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from ...errors import UserError
from .config import ITEMS
from .grader import grade_submission, load_questions
from .report import csv_row, format_table, to_json


def students(folder):
    """``[(name, path)]`` of the submissions in ``folder``, sorted by name."""
    if not os.path.isdir(folder):
        raise UserError(f"{folder} is not a folder of submissions")
    found = []
    for entry in sorted(os.listdir(folder)):
        path = os.path.join(folder, entry)
        if entry.startswith(".") or not (os.path.isdir(path) or entry.endswith(".py")):
            continue
        found.append((os.path.splitext(entry)[0] if os.path.isfile(path) else entry, path))
    if not found:
        raise UserError(f"{folder} holds no submission (a sub-folder or a .py file each)")
    return found


def safe_name(name):
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)[:100] or "student"


def _grade_one(name, path, settings, folder):
    try:
        return grade_submission(path, settings, protect=[folder])
    except UserError as err:
        return {"submission": os.path.abspath(path), "passed": False, "error": str(err),
                "items": [], "score": 0, "max_score": 0}


def grade_batch(folder, out, settings, jobs=2, log=sys.stderr):
    """Grade every submission in ``folder``; write ``out/grades.csv`` and per-student
    ``out/NAME.txt`` and ``out/NAME.json``. Returns ``{name: report}``."""
    entries = students(folder)
    os.makedirs(out, exist_ok=True)
    start = time.monotonic()
    reports = {}
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {name: pool.submit(_grade_one, name, path, settings, folder)
                   for name, path in entries}
        for i, (name, _) in enumerate(entries, 1):
            report = futures[name].result()
            reports[name] = report
            base = os.path.join(out, safe_name(name))
            with open(base + ".json", "w") as f:
                f.write(to_json(report, errors=True) + "\n")
            with open(base + ".txt", "w") as f:
                f.write((f"error: {report['error']}" if "error" in report
                         else format_table(report)) + "\n")
            print(f"[{i}/{len(entries)}] {name}: {report['score']:g}/{report['max_score']:g}"
                  f"{' (' + report['error'] + ')' if 'error' in report else ''} "
                  f"[{time.monotonic() - start:.0f} s]", file=log, flush=True)
    items = list(settings.items) if settings.items is not None else list(ITEMS)
    items = [n for n in ITEMS if n in items]
    questions = load_questions()
    if questions is not None and (settings.items is None or settings.questions_points):
        items += [f"question {q}" for q in questions.QUESTIONS]
    with open(os.path.join(out, "grades.csv"), "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "score", "max_score", "passed", "status"] + items)
        for name, _ in entries:
            writer.writerow(csv_row(name, reports[name], items))
    return reports
