"""Grade students' layers: every verdict from arrays, every line of student code in a sandbox.

The parent process (this package) never imports a submission. It starts one child per
submission (``runner.py``: ``python -I``, a scrubbed environment, a fresh temporary folder as
working directory, limits on CPU time, memory, file size and processes, an audit hook that
refuses the reference implementation and writes outside the folder), sends it inputs, gets
arrays back, and compares them with the reference it computes itself::

    from alexnet_np.tools.grade import grade_submission, format_table, load_settings
    report = grade_submission("student.py", load_settings("hidden.toml"))
    print(format_table(report)); report["score"], report["passed"]

- ``config.py``: the items, their public cases, an instructor's file (hidden cases, points);
- ``sandbox.py``: the child's lifecycle and protocol (parent side); ``runner.py``: the child;
- ``checks.py``: one check per item, with the mistake-specific hints;
- ``grader.py``: one submission; ``batch.py``: a folder of them; ``report.py``: the formats.

docs/grading.md describes the whole setup, and what the sandbox does not protect against.
"""

from .batch import grade_batch
from .config import FUNCTIONS, ITEMS, LAYERS, PUBLIC, Settings, load_settings
from .grader import grade_submission, load_questions, submission_files
from .report import error_json, format_table, gradescope, to_json

__all__ = ["grade_batch", "FUNCTIONS", "ITEMS", "LAYERS", "PUBLIC", "Settings",
           "load_settings", "grade_submission", "load_questions", "submission_files",
           "error_json", "format_table", "gradescope", "to_json"]
