"""The small presets' training recipe: small fc8 init, calibrated init, warm-up and dropout
ramp caps, data-aware flip default."""

import dataclasses
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


def test_calibrated_init_gives_zero_mean_rows_and_unit_std_units():
    from alexnet_np.model import PRESETS
    x = np.random.default_rng(1).standard_normal((64, 3, 15, 15)).astype(np.float32)
    model = build_model("micro", num_classes=10, seed=0, fast=False)
    fc8_before = model.params["fc8.W"].copy()
    model.calibrate_init(x)
    model.eval()
    h = x
    for name, layer in model.layers:
        if "W" in layer.params and name != "fc8":
            rows = layer.params["W"].reshape(layer.params["W"].shape[0], -1)
            assert np.abs(rows.mean(axis=1)).max() < 1e-5, name
            out = layer.forward(h)
            std = out.std(axis=(0, 2, 3) if out.ndim == 4 else 0)
            assert np.allclose(std, 1.0, atol=1e-3), name
        h = layer.forward(h)
    assert np.array_equal(model.params["fc8.W"], fc8_before)  # fc8 keeps its small draw
    assert PRESETS["paper"].init_calibrate is False
    assert all(PRESETS[a].init_calibrate for a in ("tiny", "cifar", "micro"))


def test_calibration_only_for_calibrated_kaiming_and_uses_no_data_rng():
    from alexnet_np.data import load_dataset
    from alexnet_np.train import calibrate_from_data
    ds = load_dataset("synthetic", 18, synthetic_train=300, synthetic_val=20, verbose=False)
    plain = build_model("micro", num_classes=10, seed=0, fast=False, init_calibrate=False)
    before = {k: v.copy() for k, v in plain.params.items()}
    assert calibrate_from_data(plain, ds) is False
    assert all(np.array_equal(before[k], v) for k, v in plain.params.items())
    paper = build_model("micro", num_classes=10, seed=0, fast=False, init="paper")
    assert calibrate_from_data(paper, ds) is False
    a = build_model("micro", num_classes=10, seed=0, fast=False)
    b = build_model("micro", num_classes=10, seed=0, fast=False)
    assert calibrate_from_data(a, ds) and calibrate_from_data(b, ds)
    assert all(np.array_equal(a.params[k], b.params[k]) for k in a.params)  # deterministic
    assert not np.array_equal(a.params["conv2.W"], before["conv2.W"])


def test_dropout_ramps_from_zero_to_p_within_the_first_epoch():
    from alexnet_np.layers import Dropout
    from alexnet_np.train import dropout_ramp, set_dropout

    class DS:
        train_labels = np.zeros(100)
    assert dropout_ramp(TrainSettings(batch_size=10, dropout_ramp_steps=80), DS) == 10
    assert dropout_ramp(TrainSettings(batch_size=10, dropout_ramp_steps=0), DS) == 0
    model = build_model("micro", num_classes=10, seed=0, fast=False, dropout=0.5)
    drops = [layer for _, layer in model.layers if isinstance(layer, Dropout)]
    assert drops
    for step, want in ((0, 0.0), (5, 0.25), (10, 0.5), (50, 0.5)):
        set_dropout(model, step, 10)
        assert all(abs(d.p - want) < 1e-12 for d in drops)
    set_dropout(model, 0, 0)  # no ramp: the config's p from the first step
    assert all(d.p == 0.5 for d in drops)


def test_a_presets_own_training_defaults_apply_unless_a_flag_is_given(tmp_path, capsys):
    """`train --arch micro` uses micro's own lr and warm-up (train.PRESET_TRAINING); a flag
    given wins, a resumed run keeps its saved values, the other presets keep TrainSettings'."""
    from alexnet_np import cli
    from alexnet_np.checkpoint import read_meta
    from alexnet_np.model import PRESETS
    from alexnet_np.train import PRESET_TRAINING, preset_settings

    fields = {f.name for f in dataclasses.fields(TrainSettings)}
    assert set(PRESET_TRAINING) <= set(PRESETS) and "paper" not in PRESET_TRAINING
    assert all(set(own) <= fields for own in PRESET_TRAINING.values())
    assert (preset_settings("micro").lr, preset_settings("micro").warmup_steps) == (0.04, 0)
    assert preset_settings("micro", lr=0.01).lr == 0.01
    assert preset_settings("cifar") == TrainSettings(arch="cifar")

    def saved(*flags, out):
        argv = ["train", "--train-size", "32", "--val-size", "8", "--batch-size", "16",
                "--max-steps", "1", "--out", str(tmp_path / out), "--cache-dir",
                str(tmp_path / "cache"), *flags]
        assert cli.main(argv) == 0
        s = read_meta(tmp_path / out / "last.npz")["settings"]
        return s["lr"], s["warmup_steps"]

    assert saved("--arch", "micro", out="own") == (0.04, 0)
    assert "micro's own training defaults: --lr 0.04, --warmup 0" in capsys.readouterr().out
    assert saved("--arch", "micro", "--lr", "0.01", "--warmup", "5", out="flags") == (0.01, 5)
    assert saved("--arch", "micro", "--lr", "0.01", out="one") == (0.01, 0)
    assert "micro's own training defaults: --warmup 0 (" in capsys.readouterr().out
    assert saved("--resume", "--max-steps", "2", out="flags") == (0.01, 5)  # its own, kept
    assert "own training defaults" not in capsys.readouterr().out
    assert saved(out="cifar") == (0.02, 10)  # the default preset: TrainSettings' defaults
    assert "own training defaults" not in capsys.readouterr().out
