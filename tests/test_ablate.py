"""The ablation study: every variant trained, tables written, resume and skip, errors."""

import dataclasses
import json

import numpy as np
import pytest

from alexnet_np import cli
from alexnet_np.errors import UserError
from alexnet_np.tools import ablate, fig1
from alexnet_np.tools.ablate import (
    VARIANT_NAMES,
    StudySettings,
    epochs_to_reach,
    render_markdown,
    run_study,
    select_variants,
    variant_settings,
)


def study(tmp_path, **kw):
    base = dict(out=str(tmp_path / "study"), arch="micro", epochs=1, batch_size=16,
                synthetic_train=48, synthetic_val=24, cache_dir=str(tmp_path / "cache"),
                train_eval_size=20, fig1=False)
    return StudySettings(**{**base, **kw})


def quiet(_msg):
    pass


def test_ablate_command_trains_every_variant_and_writes_the_tables(tmp_path, capsys):
    out = tmp_path / "abl"
    code = cli.main(["ablate", "--arch", "micro", "--epochs", "1", "--train-size", "48",
                     "--val-size", "24", "--batch-size", "16", "--train-eval-size", "20",
                     "--cache-dir", str(tmp_path / "cache"), "--seeds", "0", "--no-fig1",
                     "--out", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    for i, name in enumerate(VARIANT_NAMES, 1):
        assert f"[{i}/8] {name}: epoch 1/1" in text  # a progress line per variant
        assert (out / name / "last.npz").exists()
    data = json.loads((out / "ablation.json").read_text())
    rows = data["variants"]
    assert [r["variant"] for r in rows] == VARIANT_NAMES
    assert rows[0]["top1_change"] == 0 and rows[0]["top5_change"] == 0
    for r in rows:
        assert 0 <= r["val_top1_error"] <= 1 and 0 <= r["val_top5_error"] <= 1
        assert len(r["train_top1_curve"]) == 1
        expected = 100 * (r["val_top1_error"] - rows[0]["val_top1_error"])
        assert r["top1_change"] == pytest.approx(expected)
    by = {r["variant"]: r for r in rows}
    assert by["no-lrn"]["paper_top1_change"] == 1.4 and by["pool-2x2"]["paper_top5_change"] == 0.3
    assert (out / "ablation.png").stat().st_size > 0  # every variant's curves
    md = (out / "ablation.md").read_text()
    assert md.count("\n| ") == 9  # header + 8 variants
    assert all(isinstance(r["lr_drop_epochs"], list) for r in rows)
    assert "ReLU vs tanh" in md and "paper" in md
    # the variants really differ in what they switch
    w_base = np.load(out / "baseline" / "last.npz")
    w_flat = np.load(out / "no-groups" / "last.npz")
    assert w_base["params/conv2.W"].shape[1] * 2 == w_flat["params/conv2.W"].shape[1]


def test_study_resumes_and_skips_finished_variants(tmp_path, monkeypatch):
    def interrupt_after_tanh_epoch_1(msg):
        if "tanh: epoch 1/2" in msg:
            raise KeyboardInterrupt

    pair = ("baseline", "tanh")
    with pytest.raises(KeyboardInterrupt):
        run_study(study(tmp_path, variants=pair, epochs=2), log=interrupt_after_tanh_epoch_1)
    log = []
    run_study(study(tmp_path, variants=pair, epochs=2), log=log.append)
    assert any("baseline: already trained 2 epochs, skipped" in m for m in log)
    assert any("tanh: resuming after epoch 1" in m for m in log)
    assert any("tanh: epoch 2/2" in m for m in log)
    assert sorted(ablate.read_train_errors(tmp_path / "study" / "tanh")) == [1, 2]

    def no_training(*a, **k):
        raise AssertionError("a finished variant was trained again")

    monkeypatch.setattr(ablate, "train", no_training)
    log = []
    rows = run_study(study(tmp_path, variants=pair, epochs=2), log=log.append)
    assert sum("already trained 2 epochs, skipped" in m for m in log) == 2
    assert [r["variant"] for r in rows] == ["baseline", "tanh"]
    assert len(rows[1]["train_top1_curve"]) == 2


def test_budget_changes_only_extend_a_plateau_study(tmp_path):
    run_study(study(tmp_path, variants=("baseline",)), log=quiet)
    with pytest.raises(UserError, match="epochs"):  # cosine depends on the budget
        run_study(study(tmp_path, variants=("baseline",), epochs=2), log=quiet)
    s1 = study(tmp_path, variants=("baseline",), schedule="plateau", out=str(tmp_path / "p"))
    run_study(s1, log=quiet)
    log = []
    rows = run_study(study(tmp_path, variants=("baseline",), schedule="plateau",
                           out=str(tmp_path / "p"), epochs=2), log=log.append)
    assert any("resuming after epoch 1" in m for m in log)
    assert len(rows[0]["train_top1_curve"]) == 2


def test_study_refuses_a_folder_of_another_study(tmp_path):
    run_study(study(tmp_path, variants=("baseline",)), log=quiet)
    with pytest.raises(UserError, match="seed"):
        run_study(study(tmp_path, variants=("baseline",), seed=3), log=quiet)


def test_epochs_to_reach_and_not_reached():
    errs = {1: {"train_top1_error": 0.6}, 2: {"train_top1_error": 0.25},
            3: {"train_top1_error": 0.1}}
    assert epochs_to_reach(errs) == 2
    assert epochs_to_reach({1: {"train_top1_error": 0.5}}) is None
    recs = [{"epoch": 1, "lr": 0.01}, {"epoch": 2, "lr": 0.01}, {"epoch": 3, "lr": 0.001}]
    assert ablate.lr_drop_epochs(recs) == [3] and ablate.lr_drop_epochs([]) == []
    rows = [{"variant": v, "change": "c", "val_top1_error": 0.5, "val_top5_error": 0.2,
             "top1_change": 0.0, "top5_change": 0.0, "train_top1_error": 0.4,
             "train_top1_curve": [0.4], "epochs_to_25pct_train_error": None, "paper": "p"}
            for v in ("baseline", "tanh")]
    md = render_markdown(StudySettings(epochs=1), rows, 100, 50)
    assert "not reached in 1 epochs" in md


def test_unknown_variant_is_a_user_error(tmp_path, capsys):
    with pytest.raises(UserError, match="unknown variant"):
        select_variants(["no-relu"])
    assert cli.main(["ablate", "--out", str(tmp_path), "--variants", "bogus"]) == 2
    assert "unknown variant" in capsys.readouterr().err


def test_two_seeds_are_tabulated_side_by_side():
    def rows(shift, relu, tanh):
        return [{"variant": v, "change": "c", "val_top1_error": 0.5 + d, "val_top5_error": 0.2,
                 "top1_change": 100 * d, "top5_change": 0.0, "train_top1_error": 0.1,
                 "train_top1_curve": [0.1], "epochs_to_25pct_train_error": e, "paper": "p"}
                for v, d, e in (("baseline", 0.0, relu), ("tanh", shift, tanh))]
    md = ablate.render_seeds_markdown(StudySettings(epochs=3), [0, 1],
                                      [rows(0.02, 2, 6), rows(0.04, 3, None)], 500)
    assert "| tanh | c | 52.0% / 54.0% | +2.0 / +4.0 | +3.0 |" in md
    assert "seed 0: ReLU 2, tanh 6 (3.0x); seed 1: ReLU 3, tanh not reached" in md


def test_fig1_nets_share_their_weights_and_the_grid_picks_the_fastest_rate():
    relu, tanh = fig1.four_layer_net("relu", 8), fig1.four_layer_net("tanh", 8)
    learned = [i for i, lay in enumerate(relu) if lay.params]
    assert len(learned) == 4  # Fig. 1's four learned layers
    for i in learned:
        for k in relu[i].params:
            np.testing.assert_array_equal(relu[i].params[k], tanh[i].params[k])
    assert type(relu[1]).__name__ == "ReLU" and type(tanh[1]).__name__ == "Tanh"
    assert fig1.epochs_to([0.9, 0.5, 0.25, 0.1]) == 3 and fig1.epochs_to([0.9, 0.3]) is None
    runs = {0.01: np.array([0.9, 0.2]), 0.1: np.array([0.2]), 1.0: np.array([0.9, 0.8])}
    assert fig1.best_of(runs) == 0.1
    assert fig1.best_of({0.01: np.array([0.9, 0.5]), 0.1: np.array([0.9, 0.4])}) == 0.1
    res = {"relu": {"epochs": 2}, "tanh": {"epochs": None}}
    assert fig1.ratio(res, 30) == 15.5  # tanh not reached: at least 31 / 2
    assert fig1.ratio({"relu": {"epochs": None}, "tanh": {"epochs": 3}}, 30) is None


def test_fig1_training_reaches_the_target_on_separable_data_and_stops():
    rng = np.random.default_rng(0)
    y = np.arange(64) % 10
    templates = rng.normal(0, 1, (10, 3, 8, 8))  # one fixed random image per class, + noise
    x = (templates[y] + rng.normal(0, 0.3, (64, 3, 8, 8))).astype(np.float32)
    errors = fig1.train_error_curve(fig1.four_layer_net("relu", 8), x, y, epochs=40, lr=0.05,
                                    batch=16)
    assert errors[-1] <= fig1.TARGET and len(errors) < 40  # stopped at the first hit
    assert np.all(errors[:-1] > fig1.TARGET)


def test_study_measures_fig1_per_seed_and_reuses_it(tmp_path):
    s = study(tmp_path, variants=("baseline", "tanh"), fig1=True, fig1_size=8, fig1_images=32,
              fig1_lrs=(0.01, 0.1), fig1_epochs=2)
    log = []
    ablate.run_seeds(s, [0, 1], log=log.append)
    out = tmp_path / "study"
    assert (out / "fig1.png").exists()
    assert sum(m.startswith("fig1 seed") for m in log) == 2 * 2 * 2  # seeds x acts x rates
    md = (out / "ablation.md").read_text()
    assert "ReLU vs tanh the paper's way (Fig. 1)" in md
    assert md.count("\n| 0 | ") == 1 and md.count("\n| 1 | ") == 1
    data = json.loads((out / "ablation.json").read_text())
    res = data["fig1"]["results"]
    assert set(res) == {"0", "1"} and set(res["0"]) == {"relu", "tanh"}
    assert set(res["0"]["relu"]["grid"]) == {"0.01", "0.1"}
    log = []
    ablate.run_seeds(s, [0, 1], log=log.append)
    assert "fig1: already measured, reused" in log
    assert not any(m.startswith("fig1 seed") for m in log)
    with pytest.raises(UserError, match="shared Fig. 1 learning rate"):
        ablate.run_fig1(dataclasses.replace(s, fig1_lrs=(0.1,), out=str(tmp_path / "x")), [0])


def test_the_baseline_is_the_papers_recipe_also_for_a_preset_without_dropout(tmp_path):
    """micro has no dropout of its own: the study puts the paper's p = 0.5 on every variant,
    so that its no-dropout arm differs from the baseline; cifar's settings are untouched."""
    variants = {v.name: v for v in select_variants(["no-dropout", "tanh"])}
    micro = study(tmp_path)
    assert variant_settings(micro, variants["baseline"], 1, False).model_overrides == {
        "dropout": 0.5}
    assert variant_settings(micro, variants["no-dropout"], 1, False).model_overrides == {
        "dropout": 0.0}
    assert variant_settings(micro, variants["tanh"], 1, False).model_overrides == {
        "dropout": 0.5, "activation": "tanh"}
    cifar = study(tmp_path, arch="cifar")
    assert variant_settings(cifar, variants["baseline"], 1, False).model_overrides == {}
