"""The small presets' training recipe: small fc8 init, warm-up cap, data-aware flip default."""

import math

import numpy as np

from alexnet_np.commands.train import default_flip
from alexnet_np.model import build_model
from alexnet_np.train import TrainSettings, warmup_steps


def test_small_fc8_init_starts_at_ln10_and_paper_preset_is_untouched():
    x = np.random.default_rng(0).standard_normal((32, 3, 15, 15)).astype(np.float32)
    y = np.arange(32) % 10
    small = build_model("micro", num_classes=10, seed=0, fast=False)
    plain = build_model("micro", num_classes=10, seed=0, fast=False, fc8_init_std=0.0)
    assert abs(float(small.loss(x, y)[0]) - math.log(10)) < 0.02
    assert float(plain.loss(x, y)[0]) > float(small.loss(x, y)[0])
    assert np.isclose(small.params["fc8.W"].std(), 0.01, rtol=0.1)
    fan_in = plain.params["fc8.W"].shape[1]
    assert np.isclose(plain.params["fc8.W"].std(), math.sqrt(2 / fan_in), rtol=0.1)
    from alexnet_np.model import PRESETS
    assert PRESETS["paper"].fc8_init_std == 0.0 and PRESETS["paper"].init == "paper"


def test_warmup_never_longer_than_the_first_epoch():
    class DS:
        train_labels = np.zeros(100)
    assert warmup_steps(TrainSettings(batch_size=10, warmup_steps=50), DS) == 10
    assert warmup_steps(TrainSettings(batch_size=1, warmup_steps=50), DS) == 50
    assert warmup_steps(TrainSettings(batch_size=10, warmup_steps=0), DS) == 0


def test_flip_default_depends_on_the_data():
    assert default_flip("synthetic")[0] is False
    on, note = default_flip("/data/my_digits")
    assert on is True and "--no-flip" in note
