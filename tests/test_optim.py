"""SGD in the paper's form, hand-computed; schedules."""

import numpy as np
import pytest

from alexnet_np.optim import SGD, CosineSchedule, PlateauSchedule, StepSchedule, make_schedule


def test_paper_update_hand_computed():
    w = np.array([1.0, -2.0])
    opt = SGD({"w": w}, lr=0.1, momentum=0.9, weight_decay=0.5)
    opt.step({"w": np.array([1.0, 1.0])})
    # v = 0.9*0 - 0.5*0.1*w - 0.1*g = [-0.05 - 0.1, 0.1 - 0.1] = [-0.15, 0.0]
    np.testing.assert_allclose(opt.velocity["w"], [-0.15, 0.0], rtol=1e-15)
    np.testing.assert_allclose(w, [0.85, -2.0], rtol=1e-15)  # updated in place
    opt.step({"w": np.array([0.0, 2.0])})
    # v = 0.9*[-0.15, 0] - 0.05*[0.85, -2] - 0.1*[0, 2] = [-0.1775, -0.1]
    np.testing.assert_allclose(opt.velocity["w"], [-0.1775, -0.1], rtol=1e-14)
    np.testing.assert_allclose(w, [0.6725, -2.1], rtol=1e-14)


def test_lr_inside_velocity_differs_from_pytorch_after_a_drop():
    # Same gradients; after a learning-rate drop the paper's velocity keeps the old-rate steps.
    g = {"w": np.array([1.0])}
    w_paper = np.array([0.0])
    paper = SGD({"w": w_paper}, lr=1.0, momentum=0.9, weight_decay=0.0)
    paper.step(g)
    paper.lr = 0.1
    paper.step(g)
    # PyTorch: v <- 0.9 v + g ; w <- w - lr v
    v, w_torch = 0.0, 0.0
    for lr in (1.0, 0.1):
        v = 0.9 * v + 1.0
        w_torch -= lr * v
    assert w_paper[0] == pytest.approx(-1.0 - (0.9 + 0.1))  # -2.0
    assert w_paper[0] != pytest.approx(w_torch)  # PyTorch's form: -1.0 - 0.1 * 1.9 = -1.19
    # the state round-trips
    state = paper.state_dict()
    other = SGD({"w": np.zeros(1)})
    other.load_state_dict(state)
    assert other.lr == 0.1 and other.velocity["w"][0] == paper.velocity["w"][0]


def test_plateau_schedule_divides_by_ten_three_times():
    s = PlateauSchedule(0.01, patience=2)
    lrs = [s.step(e) for e in [0.5, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4]]
    assert lrs[:3] == [0.01, 0.01, 0.01]
    assert lrs[3] == pytest.approx(0.001)
    assert min(lrs) == pytest.approx(1e-5)  # three drops, then it stays
    assert s.drops == 3


def test_step_and_cosine():
    s = StepSchedule(1.0, step_size=2)
    assert [s.step() for _ in range(4)] == [1.0, 0.1, 0.1, pytest.approx(0.01)]
    c = CosineSchedule(1.0, epochs=4)
    lrs = [c.step() for _ in range(4)]
    assert lrs[1] == pytest.approx(0.5) and lrs[-1] == pytest.approx(0.0)
    with pytest.raises(ValueError, match="unknown schedule"):
        make_schedule("warm", 0.1, 3)
