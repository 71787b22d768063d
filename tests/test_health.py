"""The training-health tool: per-layer statistics, checked against hand computations."""

import json
import math

import numpy as np
import pytest

from alexnet_np import cli
from alexnet_np.model import build_model
from alexnet_np.optim import SGD
from alexnet_np.tools.health import activation_stats, health_step, plateau_steps


def test_activation_stats_by_hand():
    out = np.array([[0.0, 1.0, 0.0], [0.0, 3.0, 2.0]])  # unit 0 is 0 for both images: dead
    mean, std, dead = activation_stats(out)
    assert mean == np.mean(out) and std == np.std(out) and dead == 1 / 3
    t = np.array([[0.995, 0.1], [-0.999, 0.2]])  # tanh: |t| averages > 0.99 for unit 0
    assert activation_stats(t, "tanh")[2] == 0.5


def test_health_step_measures_the_real_update():
    model = build_model("micro", num_classes=10, seed=0, fast=False)
    w0 = model.params["fc7.W"].copy()
    opt = SGD(model.params, lr=0.05)
    x = np.random.default_rng(1).standard_normal((8, 3, 15, 15)).astype(np.float32)
    y = np.arange(8) % 10
    loss, stats = health_step(model, opt, x, y)
    assert abs(loss - math.log(10)) < 0.05  # fc8's small init: the first loss is ln(10)
    ratio = np.linalg.norm(model.params["fc7.W"] - w0) / np.linalg.norm(w0)
    assert np.isclose(stats["fc7"]["update_ratio"], ratio, rtol=1e-5)
    assert np.isclose(stats["fc7"]["grad_std"], model.grads["fc7.W"].std(), rtol=1e-5)
    assert set(stats["relu1"]) == {"act_mean", "act_std", "dead"}
    assert 0 <= stats["relu5"]["dead"] <= 1


def test_plateau_steps():
    # 50 steps at chance, then 1.0: the 10-step mean first drops below 2.253 at step 50
    assert plateau_steps([2.3] * 50 + [1.0] * 30) == 50
    assert plateau_steps([2.3] * 40) == 40  # never leaves chance
    assert plateau_steps([1.0] * 30) == 9  # the resolution: one window


def test_visualize_health_command(tmp_path, capsys):
    out = tmp_path / "health.png"
    code = cli.main(["visualize", "health", "--arch", "micro", "--steps", "4", "--batch-size",
                     "8", "--out", str(out)])
    assert code == 0 and out.exists()
    record = json.loads((tmp_path / "health.json").read_text())
    assert len(record["loss"]) == 4 and len(record["layers"]["conv5"]["update_ratio"]) == 4
    assert record["lr_used"] == pytest.approx([0.04] * 4)  # micro's own: lr 0.04, no warm-up
    assert "update/weight" in capsys.readouterr().out
    code = cli.main(["visualize", "health", "--arch", "micro", "--steps", "4", "--batch-size",
                     "8", "--lr", "0.02", "--warmup", "10", "--out", str(out)])  # flags win
    record = json.loads((tmp_path / "health.json").read_text())
    assert code == 0 and record["lr_used"][0] < record["lr_used"][-1] < 0.02  # warm-up ramps
