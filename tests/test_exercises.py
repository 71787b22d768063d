"""The exercises: templates in sync with solutions.py, solutions right, questions answerable.

The templates are generated from solutions.py (lessons/exercises/make_templates.py); the new
function exercises are checked here against the library (the layer classes are graded by
``alexnet-np grade``, see test_grade.py); the questions' answers come from the reference code
and must be the numbers the lessons' methods give by hand.
"""

import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest

from alexnet_np.gradcheck import CONV_CASES
from alexnet_np.layers import conv2d_forward
from alexnet_np.layers.im2col import col2im, im2col, pad_hw
from alexnet_np.tools.questions import QUESTIONS, check_answers

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXERCISES = os.path.join(ROOT, "lessons", "exercises")


def load(name):
    spec = importlib.util.spec_from_file_location(f"ex_{name}",
                                                  os.path.join(EXERCISES, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def make_templates():
    sys.path.insert(0, EXERCISES)
    try:
        import make_templates
        yield make_templates
    finally:
        sys.path.remove(EXERCISES)


def test_templates_are_in_sync_with_solutions(make_templates):
    for path, text in make_templates.generated().items():
        with open(path, encoding="utf-8") as fh:
            assert fh.read() == text, f"{os.path.basename(path)} is stale: run " \
                                      "python lessons/exercises/make_templates.py"


def test_sync_check_fails_on_a_stale_template(make_templates, tmp_path, monkeypatch):
    stale = tmp_path / "relu.py"
    stale.write_text("# an old template\n")
    monkeypatch.setattr(make_templates, "generated", lambda: {str(stale): "new\n"})
    assert make_templates.main(["--check"]) == 1
    assert stale.read_text() == "# an old template\n"


def test_templates_hold_no_solution_and_name_their_lesson(make_templates):
    for file, (name, lesson, _) in make_templates.EXERCISES.items():
        with open(os.path.join(EXERCISES, f"{file}.py"), encoding="utf-8") as fh:
            text = fh.read()
        assert "SOLUTION" not in text and f'NotImplementedError("TODO: {name}' in text
        assert f"lessons/{lesson.split(',')[0]}" in text
        assert os.path.exists(os.path.join(ROOT, "lessons", lesson.split(",")[0]))
        assert "# TASK:" in text


@pytest.mark.parametrize("name", ["conv2d_loops", "col2im"])
def test_new_templates_raise_the_todo(name):
    module = load(name)
    fn = module.conv2d_forward_loops if name == "conv2d_loops" else module.col2im
    args = ((np.zeros((1, 1, 3, 3)), np.zeros((1, 1, 2, 2)), np.zeros(1)) if name ==
            "conv2d_loops" else (np.zeros((1, 2, 2, 1, 2, 2)), (1, 1, 3, 3), 1))
    with pytest.raises(NotImplementedError, match="TODO"):
        fn(*args)


@pytest.mark.parametrize("case", CONV_CASES, ids=[c.name for c in CONV_CASES])
def test_solution_conv2d_forward_loops_matches_the_library(case):
    sol = load("solutions")
    rng = np.random.default_rng(1)
    x = rng.standard_normal((case.n, case.c, case.h, case.w))
    W = rng.standard_normal((case.f, case.c // case.groups, case.k, case.k))
    b = rng.standard_normal(case.f)
    want, _ = conv2d_forward(x, W, b, case.stride, case.padding, case.groups)
    got = sol.conv2d_forward_loops(x, W, b, case.stride, case.padding, case.groups)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("k,stride", [(3, 1), (3, 2), (2, 2), (5, 3)])
def test_solution_col2im_matches_the_library_and_is_the_adjoint(k, stride):
    sol = load("solutions")
    rng = np.random.default_rng(2)
    xp = pad_hw(rng.standard_normal((2, 3, 8, 9)), 1)
    cols = im2col(xp, k, k, stride)  # (N, OH, OW, C, K, K)
    d = rng.standard_normal(cols.shape)
    got = sol.col2im(d, xp.shape, stride)
    np.testing.assert_allclose(got, col2im(d, xp.shape, stride), rtol=1e-12)
    # adjoint: <im2col(x), d> == <x, col2im(d)>
    assert np.isclose(np.sum(cols * d), np.sum(xp * got))


def test_every_question_has_a_lesson_and_an_answer():
    lessons = {f[:-3] for f in os.listdir(os.path.join(ROOT, "lessons"))}
    assert len(QUESTIONS) >= 10
    for q in QUESTIONS.values():
        assert q.lesson in lessons, f"{q.id}: no lesson {q.lesson}"
        assert np.isfinite(q.answer()) and q.text.endswith(("?", ")"))
        with open(os.path.join(ROOT, "lessons", q.lesson + ".py"), encoding="utf-8") as fh:
            assert q.id in fh.read(), f"lesson {q.lesson} does not point to {q.id}"


# Answers worked out by hand with the lessons' methods (the derivations are in the lessons).
BY_HAND = {"q00_dw": 24, "q00_dt": -8, "q00_tanh": 0.36, "q01_flat": 73, "q02_dw": -1,
           "q02_dx": 5, "q02_stride_dx": 7, "q04_cross": -0.125, "q05_dx": 3,
           "q06_linear_dw": 3, "q06_softmax_loss": np.log(2), "q06_softmax_dz": -0.5,
           "q08_dx": 12, "q09_velocity": 0.419865, "q11_conv4_params": 663_936}


def test_the_reference_code_gives_the_hand_answers():
    assert set(BY_HAND) == set(QUESTIONS)
    results = check_answers(BY_HAND)
    assert [r[0] for r in results] == list(QUESTIONS)
    assert all(ok for _, ok, _ in results), [r for r in results if not r[1]]


def test_check_answers_rejects_wrong_missing_unknown_and_non_numbers():
    wrong = {k: v + 1 for k, v in BY_HAND.items()}
    assert not any(ok for _, ok, _ in check_answers(wrong))
    results = dict((i, (ok, msg)) for i, ok, msg in check_answers(
        {"q02_dw": "minus one", "q99": 1, "q05_dx": None}))
    assert results["q02_dw"] == (False, "not a number: 'minus one'")
    assert results["q05_dx"] == (False, "not answered")
    assert results["q00_dw"] == (False, "not answered")
    assert results["q99"][0] is False and "no such question" in results["q99"][1]


def test_answers_template_loads_and_is_all_unanswered():
    answers = load("answers").ANSWERS
    assert list(answers) == list(QUESTIONS) and all(v is None for v in answers.values())


def test_make_templates_check_passes_from_the_command_line():
    proc = subprocess.run([sys.executable, os.path.join(EXERCISES, "make_templates.py"),
                           "--check"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
