"""The report of a grading run in each format: the table a student reads, JSON, Gradescope's
``results.json``, and the CSV row of a batch."""

import json
import math
import textwrap

STATUS_ORDER = ["pass", "FAIL", "missing", "error", "timeout", "crashed", "forbidden"]


def _worst(value):
    return "-" if value is None or not math.isfinite(value) else f"{value:.1e}"


def format_table(report):
    """The per-item table and a summary line, as the command prints them. Items that were
    not graded (without a configuration: what the submission does not define) are named on
    one line of their own, not listed as missing work."""
    rows = [r for r in report["items"] if r["graded"]]
    skipped = [r["item"] for r in report["items"] if not r["graded"]]
    width = max([len(r["item"]) for r in rows] + [4])
    lines = [f"{'item':<{width}} {'status':<9} {'points':>7} {'worst rel. error':>16}  hint"]
    for r in rows:
        points = f"{r['score']:g}/{r['max_score']:g}"
        lines.append(f"{r['item']:<{width}} {r['status']:<9} {points:>7} "
                     f"{_worst(r['worst']):>16}  {r['hint']}")
    if skipped:
        lines.append(textwrap.fill(f"not in the submission, so not graded: {', '.join(skipped)}",
                                   width=100, subsequent_indent="  "))
    counts = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    summary = ", ".join(f"{counts[s]} {s}" for s in STATUS_ORDER if s in counts)
    verdict = "all graded items pass" if report["passed"] else "NOT passed"
    lines.append(f"{verdict}: {report['score']:g}/{report['max_score']:g} points ({summary})")
    return "\n".join(lines)


def _clean(value):
    """JSON-safe: no NaN/inf (they become null)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def to_json(report, errors=False):
    """The report as JSON text; ``errors`` keeps every comparison's relative error."""
    if not errors:
        report = {**report, "items": [{k: v for k, v in r.items() if k != "errors"}
                                      for r in report["items"]]}
    return json.dumps(_clean(report), indent=1)


def error_json(message, path=None):
    """The JSON printed when grading could not even start (bad path, bad configuration)."""
    return json.dumps({"submission": path, "passed": False, "error": message, "items": [],
                       "score": 0, "max_score": 0}, indent=1)


def gradescope(report):
    """Gradescope's autograder ``results.json``: one test per graded item, the total score."""
    tests = []
    for r in report["items"]:
        if not r["graded"]:
            continue
        output = r["status"] if not r["hint"] else f"{r['status']}: {r['hint']}"
        tests.append({"name": r["item"], "score": r["score"], "max_score": r["max_score"],
                      "status": "passed" if r["status"] == "pass" else "failed",
                      "output": output})
    return {"score": report["score"], "tests": tests, "visibility": "visible",
            "output": format_table(report)}


def csv_row(student, report, items):
    """One batch row: student, score, max_score, passed, import status, then item scores."""
    by_item = {r["item"]: r for r in report.get("items", [])}
    row = [student, f"{report.get('score', 0):g}", f"{report.get('max_score', 0):g}",
           "yes" if report.get("passed") else "no",
           report.get("error") or report.get("import", {}).get("status", "")]
    for name in items:
        r = by_item.get(name)
        row.append("" if r is None or not r["graded"] else f"{r['score']:g}")
    return row
