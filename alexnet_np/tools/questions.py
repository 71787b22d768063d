"""Pen-and-paper questions of the lessons, with answers computed by the reference code.

Each question is small enough to work out by hand from its lesson (the numbers differ from the
lesson's worked example). A student writes the answers in a Python file::

    ANSWERS = {"q02_dw": -1.0, "q05_dx": 3, ...}

(``lessons/exercises/answers.py`` is the template) and the grader calls
:func:`check_answers`. The expected values are never written down here: each question's
``answer`` function computes it with ``alexnet_np``'s layers, so a question cannot drift from
the code it is about.

    >>> check_answers({"q01_flat": 73})[0]
    ('q01_flat', True, 'correct')
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..layers import (
    Conv2d,
    conv2d_backward,
    conv2d_forward,
    dropout_backward,
    linear_backward,
    linear_forward,
    lrn_backward,
    lrn_forward,
    maxpool2d_backward,
    maxpool2d_forward,
    relu_backward,
    relu_forward,
    softmax_xent_backward,
    softmax_xent_forward,
    tanh_backward,
    tanh_forward,
)
from ..optim import SGD


@dataclass(frozen=True)
class Question:
    """One question: ``id``, the ``lesson`` it belongs to (file name without .py), the
    ``text`` a student reads, ``answer()`` computing the expected number with the reference
    code, and ``tol``: an answer counts if ``|given - expected| <= tol * max(1, |expected|)``
    (1e-3 lets a student round to three or four digits; counts are exact).
    """

    id: str
    lesson: str
    text: str
    answer: Callable[[], float]
    tol: float = 1e-3


def _graph():
    """Lesson 00's graph with x=3, w=2, b=-1, t=1: returns (dw, dt) by the chain rule."""
    x, w, b, t = 3.0, 2.0, -1.0, 1.0
    z = np.array([w * x + b])
    h, cache = relu_forward(z)
    dh = 2 * (h - t)  # dL/dh of L = (h - t)^2
    dz = relu_backward(dh, cache)
    return float(dz[0] * x), float(-dh[0])


def _tanh_slope():
    out, cache = tanh_forward(np.array([np.log(3.0)]))
    return float(tanh_backward(np.ones(1), cache)[0])


def _conv1d(w, dout, stride=1):
    """dx and dW of a 1-D convolution of x = [2, 1, 0, -1, 3] (as an NCHW conv)."""
    x = np.array([2.0, 1, 0, -1, 3]).reshape(1, 1, 1, 5)
    W = np.array(w, dtype=float).reshape(1, 1, 1, len(w))
    _, cache = conv2d_forward(x, W, np.zeros(1), stride=stride)
    dx, dW, _ = conv2d_backward(np.array(dout, dtype=float).reshape(1, 1, 1, -1), cache)
    return dx.ravel(), dW.ravel()


def _lrn_cross():
    a = np.array([2.0, 1.0, 1.0]).reshape(1, 3, 1, 1)
    _, cache = lrn_forward(a, size=3, alpha=0.5, beta=1.0, k=1.0)
    dout = np.array([0.0, 1.0, 0.0]).reshape(1, 3, 1, 1)  # picks row b[1] of the Jacobian
    return float(lrn_backward(dout, cache).ravel()[0])


def _pool_dx():
    x = np.arange(25, dtype=float).reshape(1, 1, 5, 5)
    x[0, 0, 2, 3] = 50
    _, cache = maxpool2d_forward(x, 3, 2)
    dx = maxpool2d_backward(np.array([[1.0, -2.0], [3.0, 5.0]]).reshape(1, 1, 2, 2), cache)
    return float(dx[0, 0, 2, 3])


def _linear_dw():
    x = np.array([[1.0, 2.0], [3.0, -1.0]])
    _, cache = linear_forward(x, np.zeros((3, 2)), np.zeros(3))
    _, dW, _ = linear_backward(np.array([[1.0, 0, 2], [-1, 1, 0]]), cache)
    return float(dW[0, 1])


def _softmax(which):
    z = np.log(np.array([[1.0, 3.0, 4.0]]))
    loss, cache = softmax_xent_forward(z, np.array([2]))
    return float(loss) if which == "loss" else float(softmax_xent_backward(1.0, cache)[0, 2])


def _dropout_dx():
    p = 0.75
    scaled_mask = np.array([0.0, 1.0, 1.0, 0.0]) / (1 - p)  # what dropout_forward caches
    return float(dropout_backward(np.array([1.0, 2.0, 3.0, 4.0]), scaled_mask)[2])


def _sgd_two_steps():
    params = {"w": np.array([1.0])}
    opt = SGD(params, lr=0.1, momentum=0.9, weight_decay=5e-4)
    for _ in range(2):
        opt.step({"w": np.array([2.0])})
    return float(params["w"][0])


def _conv4_params():
    layer = Conv2d(384, 384, 3, padding=1, groups=2, std=0)
    return float(sum(v.size for v in layer.params.values()))


_LIST = [
    Question("q00_dw", "00_chain_rule",
             "The graph of lesson 00 (a = w*x, z = a + b, h = relu(z), L = (h - t)^2) with "
             "x = 3, w = 2, b = -1, t = 1. What is dL/dw?", lambda: _graph()[0]),
    Question("q00_dt", "00_chain_rule", "Same graph and numbers. What is dL/dt?",
             lambda: _graph()[1]),
    Question("q00_tanh", "00_chain_rule",
             "What is the derivative of tanh at z = ln 3? (Hint: e^z = 3.)", _tanh_slope),
    Question("q01_flat", "01_tensors_nchw",
             "x has shape (2, 3, 4, 5) in C order. At which flat index (x.reshape(-1)) is "
             "x[1, 0, 2, 3]?",
             lambda: float(np.ravel_multi_index((1, 0, 2, 3), (2, 3, 4, 5))), tol=1e-9),
    Question("q02_dw", "02_convolution",
             "A 1-D convolution (stride 1, no padding) of x = [2, 1, 0, -1, 3] with a kernel "
             "w of 3 taps receives dout = [1, 0, 2]. What is dW[1]?",
             lambda: float(_conv1d([1, -2, 3], [1, 0, 2])[1][1])),
    Question("q02_dx", "02_convolution",
             "Same input and dout, kernel w = [1, -2, 3]. What is dx[2]?",
             lambda: float(_conv1d([1, -2, 3], [1, 0, 2])[0][2])),
    Question("q02_stride_dx", "02_convolution",
             "Same x, kernel w = [1, -2, 3], stride 2 (two outputs), dout = [1, 4]. "
             "What is dx[2]?", lambda: float(_conv1d([1, -2, 3], [1, 4], stride=2)[0][2])),
    Question("q04_cross", "04_lrn",
             "LRN over 3 channels, window size 3 (channels i-1..i+1), k = 1, alpha = 0.5, "
             "beta = 1, at one pixel with a = [2, 1, 1]. What is d b[1] / d a[0]?",
             _lrn_cross),
    Question("q05_dx", "05_max_pooling",
             "x = np.arange(25).reshape(5, 5) with x[2, 3] set to 50; max-pooling with 3x3 "
             "windows at stride 2 (a 2x2 output) receives dout = [[1, -2], [3, 5]]. "
             "What is dx[2, 3]?", _pool_dx),
    Question("q06_linear_dw", "06_fc_softmax",
             "A linear layer out = x @ W.T + b with x = [[1, 2], [3, -1]] (two images) and "
             "three outputs receives dout = [[1, 0, 2], [-1, 1, 0]]. What is dW[0, 1]?",
             _linear_dw),
    Question("q06_softmax_loss", "06_fc_softmax",
             "Logits z = [ln 1, ln 3, ln 4], label 2. What is the cross-entropy loss?",
             lambda: _softmax("loss")),
    Question("q06_softmax_dz", "06_fc_softmax",
             "Same logits and label. What is dL/dz[2]?", lambda: _softmax("dz")),
    Question("q08_dx", "08_dropout",
             "Inverted dropout with p = 0.75 (drop probability) kept units 1 and 2 of "
             "x = [3, -1, 2, 5]. With dout = [1, 2, 3, 4], what is dx[2]?", _dropout_dx),
    Question("q09_velocity", "09_sgd_paper_vs_pytorch",
             "The paper's SGD (momentum 0.9, weight decay 5e-4, lr 0.1), starting from w = 1 "
             "and v = 0, takes two steps with the gradient 2 both times. What is w after the "
             "second step? (6 decimals)", _sgd_two_steps, tol=1e-6),
    Question("q11_conv4_params", "11_assembling_alexnet",
             "How many parameters (weights and biases) has conv4: 384 filters of 3x3 over "
             "384 input channels, in two groups?", _conv4_params, tol=1e-9),
]

QUESTIONS = {q.id: q for q in _LIST}


def check_answers(answers):
    """Check a student's ``{question_id: number}``; returns ``[(id, ok, message)]``.

    Every question appears once, in the order of :data:`QUESTIONS` ("not answered" when the
    id is missing or its value is None); ids that are no question come last, as failures.
    """
    results = []
    for qid, q in QUESTIONS.items():
        given = answers.get(qid)
        if given is None:
            results.append((qid, False, "not answered"))
            continue
        try:
            value = float(given)
        except (TypeError, ValueError):
            results.append((qid, False, f"not a number: {given!r}"))
            continue
        expected = q.answer()
        if abs(value - expected) <= q.tol * max(1.0, abs(expected)):
            results.append((qid, True, "correct"))
        else:
            results.append((qid, False, f"{value:g} is not right; redo it with lesson "
                                        f"{q.lesson}"))
    for qid in answers:
        if qid not in QUESTIONS:
            results.append((qid, False, "no such question (see lessons/exercises/answers.py)"))
    return results
