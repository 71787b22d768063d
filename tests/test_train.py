"""The training program: resume parity, atomic checkpoints, the NaN stop, the CLI end to end."""

import errno
import json
import os

import numpy as np
import pytest
from PIL import Image

from alexnet_np import cli
from alexnet_np.checkpoint import load_checkpoint, save_checkpoint
from alexnet_np.errors import UserError
from alexnet_np.train import NumpyStepper, TrainingDiverged, TrainSettings, train

SMALL = ["--arch", "micro", "--train-size", "96", "--val-size", "40", "--batch-size", "16",
         "--quiet"]


def settings(tmp_path, out, **kw):
    base = dict(arch="micro", synthetic_train=96, synthetic_val=40, batch_size=16,
                progress=False, out=str(tmp_path / out), cache_dir=str(tmp_path / "cache"),
                epochs=2, log_every=2)
    return TrainSettings(**{**base, **kw})


def quiet(_msg):
    pass


def test_resume_gives_the_same_parameters(tmp_path):
    train(settings(tmp_path, "straight", epochs=2), log=quiet)
    train(settings(tmp_path, "split", epochs=1), log=quiet)
    train(settings(tmp_path, "split", epochs=2, resume=True), log=quiet)
    a, va, meta_a, _ = load_checkpoint(tmp_path / "straight" / "last.npz")
    b, vb, meta_b, _ = load_checkpoint(tmp_path / "split" / "last.npz")
    assert meta_a["epoch"] == meta_b["epoch"] == 2 and meta_a["step"] == meta_b["step"]
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
        np.testing.assert_array_equal(va[k], vb[k], err_msg=k)
    lines = [json.loads(x) for x in open(tmp_path / "split" / "metrics.jsonl")]
    assert [r["epoch"] for r in lines if r["type"] == "epoch"] == [1, 2]
    assert (tmp_path / "split" / "curves.png").stat().st_size > 1000


def test_existing_run_needs_resume(tmp_path):
    train(settings(tmp_path, "run", epochs=1), log=quiet)
    with pytest.raises(UserError, match="already holds a run"):
        train(settings(tmp_path, "run", epochs=1), log=quiet)
    with pytest.raises(UserError, match="no checkpoint at"):
        train(settings(tmp_path, "fresh", resume=True), log=quiet)


def test_checkpoint_written_atomically(tmp_path, monkeypatch):
    path = tmp_path / "ck.npz"
    save_checkpoint(path, {"a.W": np.ones(3)}, {"epoch": 1})

    def broken_savez(f, **arrays):
        f.write(b"partial bytes")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(UserError, match="the disk is full"):
        save_checkpoint(path, {"a.W": np.zeros(3)}, {"epoch": 2})
    params, _, meta, _ = load_checkpoint(path)  # the old checkpoint is intact
    assert meta["epoch"] == 1 and params["a.W"].tolist() == [1, 1, 1]
    assert sorted(os.listdir(tmp_path)) == ["ck.npz"]  # no temporary file left


def test_nan_stops_training_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    train(settings(tmp_path, "run", epochs=1), log=quiet)
    good = load_checkpoint(tmp_path / "run" / "last.npz")[0]
    calls = {"n": 0}
    real = NumpyStepper.train_step

    def step(self, x, y):
        calls["n"] += 1
        return float("nan") if calls["n"] == 3 else real(self, x, y)

    monkeypatch.setattr(NumpyStepper, "train_step", step)
    with pytest.raises(TrainingDiverged, match=r"loss became nan .* lower learning rate"):
        train(settings(tmp_path, "run", epochs=2, resume=True), log=quiet)
    kept = load_checkpoint(tmp_path / "run" / "last.npz")[0]
    for k in good:
        np.testing.assert_array_equal(good[k], kept[k])


def test_cli_train_evaluate_predict(tmp_path, capsys):
    out = tmp_path / "run"
    cache = ["--cache-dir", str(tmp_path / "cache")]
    assert cli.main(["train", *SMALL, *cache, "--epochs", "1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "validation top-1 error" in printed
    for name in ["last.npz", "best.npz", "metrics.jsonl", "curves.png"]:
        assert (out / name).exists(), name
    params, velocity, meta, mean = load_checkpoint(out / "last.npz")
    assert "conv1.W" in params and "conv1.W" in velocity and mean.shape == (3, 18, 18)
    assert meta["classes"] and meta["data"]["source"] == "synthetic"

    assert cli.main(["evaluate", "--checkpoint", str(out / "best.npz"), "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(result) == {"top1_error", "top5_error", "loss", "n_images"}
    assert result["n_images"] == 40 and 0 <= result["top5_error"] <= result["top1_error"] <= 1
    epoch_line = [json.loads(x) for x in open(out / "metrics.jsonl")][-1]
    assert result["top1_error"] == pytest.approx(epoch_line["val_top1_error"])

    assert cli.main(["evaluate", "--checkpoint", str(out / "best.npz"), "--ten-crop",
                     "--json"]) == 0
    assert json.loads(capsys.readouterr().out.strip())["n_images"] == 40

    img = tmp_path / "red.png"
    Image.new("RGB", (40, 30), (200, 30, 30)).save(img)
    assert cli.main(["predict", "--checkpoint", str(out / "best.npz"), str(img), "--json"]) == 0
    top = json.loads(capsys.readouterr().out)["top"]
    assert len(top) == 5 and abs(sum(t["probability"] for t in top)) <= 1.0 + 1e-6
    assert top[0]["probability"] >= top[-1]["probability"]


@pytest.mark.parametrize("argv, message", [
    (["info", "--arch", "resnet"], "unknown architecture 'resnet'"),
    (["evaluate", "--checkpoint", "/nonexistent/x.npz"], "does not exist"),
    (["train", "--data", "/nonexistent/folder", "--quiet", "--out", "{tmp}/r"],
     "/nonexistent/folder"),
], ids=["unknown-arch", "missing-checkpoint", "missing-data"])
def test_cli_errors_are_one_line(argv, message, tmp_path, capsys):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "Traceback" not in err and len(err.splitlines()) == 1


def test_damaged_checkpoint_and_bad_image(tmp_path, capsys):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK\x03\x04 this is not a real zip")
    assert cli.main(["evaluate", "--checkpoint", str(bad)]) == 2
    assert "damaged or not an alexnet-np checkpoint" in capsys.readouterr().err
    out = tmp_path / "run"
    train(settings(tmp_path, "run", epochs=1), log=quiet)
    truncated = tmp_path / "trunc.npz"
    truncated.write_bytes((out / "last.npz").read_bytes()[:5000])
    assert cli.main(["predict", "--checkpoint", str(truncated), "x.png"]) == 2
    assert "damaged" in capsys.readouterr().err
    assert cli.main(["predict", "--checkpoint", str(out / "last.npz"),
                     str(tmp_path / "missing.png")]) == 2
    assert "does not exist" in capsys.readouterr().err
    notimg = tmp_path / "notes.png"
    notimg.write_text("hello")
    assert cli.main(["predict", "--checkpoint", str(out / "last.npz"), str(notimg)]) == 2
    err = capsys.readouterr().err
    assert "notes.png" in err and len(err.strip().splitlines()) == 1
    assert os.path.exists(out / "last.npz")


def test_max_steps_then_resume_gives_the_same_parameters(tmp_path):
    """A --max-steps cut inside an epoch does not count the epoch as complete: resuming takes
    the epoch's remaining batches, and the parameters equal an uninterrupted run's. Once with
    one cut, once with two (the second inside epoch 2)."""
    small = dict(epochs=2, synthetic_train=48)  # 3 steps per epoch
    train(settings(tmp_path, "straight", **small), log=quiet)
    a, va, meta_a, _ = load_checkpoint(tmp_path / "straight" / "last.npz")
    same = [json.loads(x) for x in open(tmp_path / "straight" / "metrics.jsonl")]
    for name, cuts in (("one", [2]), ("two", [1, 5])):
        for i, cut in enumerate(cuts):
            summary = train(settings(tmp_path, name, max_steps=cut, resume=i > 0, **small),
                            log=quiet)
            assert summary["step"] == cut and summary["stopped_in_epoch"] == 1 + (cut > 3)
        summary = train(settings(tmp_path, name, resume=True, **small), log=quiet)
        assert summary["step"] == 6 and summary["epochs_completed"] == 2
        b, vb, meta_b, _ = load_checkpoint(tmp_path / name / "last.npz")
        assert meta_a["step"] == meta_b["step"] == 6 and meta_b["epoch"] == 2
        for k in a:
            np.testing.assert_array_equal(a[k], b[k], err_msg=k)
            np.testing.assert_array_equal(va[k], vb[k], err_msg=k)
        cut = [json.loads(x) for x in open(tmp_path / name / "metrics.jsonl")]
        assert [(r["type"], r["step"], r["loss"]) for r in same] == \
            [(r["type"], r["step"], r["loss"]) for r in cut]


def test_max_steps_reached_means_nothing_to_do(tmp_path, capsys):
    out = tmp_path / "run"
    cache = ["--cache-dir", str(tmp_path / "cache")]
    assert cli.main(["train", *SMALL, *cache, "--out", str(out), "--max-steps", "2"]) == 0
    assert "stopped at step 2 (--max-steps)" in capsys.readouterr().out
    assert cli.main(["train", "--out", str(out), "--resume", "--quiet", "--max-steps",
                     "2"]) == 0
    assert "already at step 2" in capsys.readouterr().out
