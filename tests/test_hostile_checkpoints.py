"""Hostile checkpoints, arguments and runs (issue 15): each case builds its own bad input and
expects a non-zero exit with ONE line "alexnet-np CMD: error: ...", no traceback, and nothing
lost (last.npz / best.npz still load and hold what they held).

Cases from the issue carry "(listed)", the others "(added)"; docs/reliability.md counts them.
"""

import importlib
import io
import json
import os
import socket
import zipfile

import numpy as np
import pytest
from hostile import (
    MICRO_FLAGS,
    arrays_of,
    copy_run,
    fill_disk,
    main,
    meta_of,
    quiet,
    refused,
    small_disk,
    tamper,
    train_micro,
)
from PIL import Image

from alexnet_np.checkpoint import load_checkpoint
from alexnet_np.fileio import RunLock
from alexnet_np.train import NumpyStepper, TrainSettings, train

train_module = importlib.import_module("alexnet_np.train")


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """One trained micro run (1 epoch) and its cache, shared read-only by the tests."""
    root = tmp_path_factory.mktemp("hostile-ck")
    train_micro(root / "run", root / "cache")
    return {"run": root / "run", "cache": root / "cache",
            "last": root / "run" / "last.npz", "best": root / "run" / "best.npz"}


def resume_argv(run, *extra):
    return ["train", "--out", run, "--resume", "--quiet", *extra]


# ---- checkpoints given to evaluate / predict (inference) --------------------------------

def _bad_header_zip(src, dst, shape=(10**11,)):
    """``src`` with params/conv1.W replaced by a header claiming ``shape`` (no data)."""
    head = io.BytesIO()
    np.lib.format.write_array_header_1_0(head, {"descr": "<f4", "fortran_order": False,
                                                "shape": shape})
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "params/conv1.W.npy":
                data = head.getvalue() + b"\0" * 64
            zout.writestr(info.filename, data)
    return dst


def _raw_meta(src, dst, text):
    data = arrays_of(src)
    data["meta"] = np.array(text)
    np.savez(dst, **data)
    return dst


def _npy_file(dst):
    with open(dst, "wb") as f:
        np.save(f, np.zeros(3, np.float32))
    return dst


def _meta_without(path, *keys):
    meta = meta_of(path)
    for k in keys:
        meta.pop(k)
    return meta


def without(key):
    """A case: the metadata lacks ``key``."""
    return (lambda s, d: tamper(s, d, meta=_meta_without(s, key)), f"'{key}' is missing")


def _meta_with_model(path, **changes):
    meta = meta_of(path)
    meta["model"].update(changes)
    return meta


INFERENCE_CASES = {
    # name: (how to build the file from a good best.npz, words the line must hold)
    "string dtype (listed)": (lambda s, d: tamper(s, d, params__fc8__b=np.array(["x"] * 10)),
                              "dtype"),
    "complex dtype (listed)": (lambda s, d: tamper(
        s, d, **{"params/fc8.b": np.zeros(10, np.complex64)}), "dtype"),
    "header claims 1e11 elements (listed)": (_bad_header_zip, "claims shape"),
    "a .npy file (listed)": (lambda s, d: _npy_file(d), "not an .npz"),
    "negative channel counts (listed)": (lambda s, d: tamper(s, d, meta=_meta_with_model(
        s, channels=[-4, 8, 8, 8, 8])), "model configuration"),
    "metadata is a JSON int (listed)": (lambda s, d: tamper(s, d, meta=7), "JSON object"),
    "metadata without model (listed)": without("model"),
    "metadata without data (listed)": without("data"),
    "metadata without classes (listed)": without("classes"),
    "integer parameters (added)": (lambda s, d: tamper(
        s, d, **{"params/fc8.b": np.zeros(10, np.int64)}), "dtype"),
    "parameter of the wrong shape (added)": (lambda s, d: tamper(
        s, d, **{"params/fc8.b": np.zeros(11, np.float32)}), "shape"),
    "NaN parameter (added)": (lambda s, d: tamper(
        s, d, **{"params/fc8.b": np.full(10, np.nan, np.float32)}), "NaN"),
    "parameter missing (added)": (lambda s, d: tamper(s, d, drop=["params/fc8.b"]), "missing"),
    "unexpected parameter (added)": (lambda s, d: tamper(
        s, d, **{"params/fc9.W": np.zeros(3, np.float32)}), "unexpected"),
    "mean image of the wrong shape (added)": (lambda s, d: tamper(
        s, d, mean_image=np.zeros((3, 4, 4), np.float32)), "mean_image"),
    "mean image missing (added)": (lambda s, d: tamper(s, d, drop=["mean_image"]),
                                   "mean_image"),
    "NaN mean image (added)": (lambda s, d: tamper(
        s, d, mean_image=np.full((3, 18, 18), np.nan, np.float32)), "mean_image"),
    "data without its source (added)": (lambda s, d: tamper(
        s, d, meta={**meta_of(s), "data": {"image_size": 18}}), "data.source"),
    "class names not strings (added)": (lambda s, d: tamper(
        s, d, meta={**meta_of(s), "classes": [1, 2]}), "classes"),
    "absurd image size (added)": (lambda s, d: tamper(
        s, d, meta={**meta_of(s), "data": {**meta_of(s)["data"], "image_size": 10**9}}),
        "image_size"),
    "meta not JSON (added)": (lambda s, d: _raw_meta(s, d, "{x"), "metadata"),
    "foreign format (added)": (lambda s, d: tamper(s, d, meta={**meta_of(s), "format": "x"}),
                               "format"),
    "empty file (added)": (lambda s, d: d.write_bytes(b"") and d or d, "damaged"),
    "random bytes (added)": (lambda s, d: d.write_bytes(os.urandom(300)) and d, "damaged"),
    "object array (added)": (lambda s, d: tamper(
        s, d, **{"params/fc8.b": np.array([None] * 10, dtype=object)}), "dtype"),
}


@pytest.mark.parametrize("case", list(INFERENCE_CASES))
def test_damaged_checkpoint_is_refused_by_evaluate_and_predict(case, base, tmp_path, capsys):
    build, words = INFERENCE_CASES[case]
    bad = build(base["best"], tmp_path / "bad.npz")
    refused(capsys, ["evaluate", "--checkpoint", bad], words)
    img = tmp_path / "x.png"
    Image.new("RGB", (20, 20), (9, 9, 9)).save(img)
    refused(capsys, ["predict", "--checkpoint", bad, img], words)


def test_checkpoint_that_is_a_folder_or_missing(base, tmp_path, capsys):  # added
    refused(capsys, ["evaluate", "--checkpoint", tmp_path], "is a folder")
    refused(capsys, ["evaluate", "--checkpoint", tmp_path / "none.npz"], "does not exist")
    os.symlink(tmp_path / "gone.npz", tmp_path / "link.npz")
    refused(capsys, ["evaluate", "--checkpoint", tmp_path / "link.npz"], "dangling")


# ---- checkpoints given to --resume --------------------------------------------------------

def _velocity_big(s, d):
    return tamper(s, d, **{"velocity/conv1.W": np.zeros((200, 3, 3, 3), np.float32)})


RESUME_CASES = {
    "velocity of the wrong shape (listed)": (lambda s, d: tamper(
        s, d, **{"velocity/conv1.W": np.zeros((1,), np.float32)}), "velocity 'conv1.W'"),
    "velocity too large (listed)": (_velocity_big, "shape"),
    "NaN velocity (added)": (lambda s, d: tamper(
        s, d, **{"velocity/fc8.W": arrays_of(s)["velocity/fc8.W"] * np.nan}), "NaN"),
    "best.npz copied to last.npz (listed)": (lambda s, d: tamper(
        s, d, drop=[k for k in arrays_of(s) if k.startswith("velocity/")]),
        "no optimizer state"),
    "metadata without settings (listed)": without("settings"),
    "metadata without rng (listed)": without("rng"),
    "metadata without model (listed)": without("model"),
    "metadata a JSON int (listed)": (lambda s, d: tamper(s, d, meta=3), "JSON object"),
    "garbage rng state (added)": (lambda s, d: tamper(
        s, d, meta={**meta_of(s), "rng": {"data": 5, "dropout": "x"}}), "training state"),
    "garbage schedule state (added)": (lambda s, d: tamper(
        s, d, meta={**meta_of(s), "schedule": {"lr": "fast"}}), "training state"),
    "negative epoch (added)": (lambda s, d: tamper(s, d, meta={**meta_of(s), "epoch": -3}),
                               "negative"),
    "settings not an object (added)": (lambda s, d: tamper(
        s, d, meta={**meta_of(s), "settings": [1]}), "'settings' is a list"),
    "settings with a bad lr (added)": (lambda s, d: tamper(
        s, d, meta={**meta_of(s), "settings": {**meta_of(s)["settings"], "lr": -1}}), "--lr"),
}


@pytest.mark.parametrize("case", list(RESUME_CASES))
def test_damaged_last_npz_is_refused_by_resume(case, base, tmp_path, capsys):
    run = copy_run(base["run"], tmp_path / "run")
    build, words = RESUME_CASES[case]
    build(base["last"], run / "last.npz")
    before = (run / "last.npz").read_bytes()
    refused(capsys, resume_argv(run, "--epochs", "2"), words)
    assert (run / "last.npz").read_bytes() == before  # nothing overwritten
    assert load_checkpoint(run / "best.npz")[2]["epoch"] == 1


# ---- arguments ----------------------------------------------------------------------------

@pytest.mark.parametrize("flags, words", [
    (["--seed", "-1"], "--seed"),  # listed
    (["--lr", "inf"], "--lr must be a finite number"),  # listed
    (["--lr", "nan"], "--lr"),  # added
    (["--lr", "0"], "--lr must be positive"),  # added
    (["--lr", "-0.1"], "--lr must be positive"),  # added
    (["--max-steps", "-1"], "--max-steps"),  # listed
    (["--momentum", "1.5"], "--momentum"),  # added
    (["--weight-decay", "-1"], "--weight-decay"),  # added
    (["--epochs", "0"], "--epochs"),  # added
    (["--batch-size", "0"], "--batch-size"),  # added
    (["--log-every", "0"], "--log-every"),  # added
    (["--lr", "fast"], "--lr"),  # added
    (["--arch", "nosuch"], "nosuch"),  # added
    (["--device", "tpu"], "--device"),  # added
])
def test_bad_train_flags(flags, words, tmp_path, capsys):
    refused(capsys, ["train", *MICRO_FLAGS, "--out", tmp_path / "r", *flags], words)
    assert not (tmp_path / "r" / "last.npz").exists()


def test_out_that_cannot_be_a_run_folder(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    refused(capsys, ["train", *MICRO_FLAGS, "--out", f], "is a file")  # listed
    refused(capsys, ["train", *MICRO_FLAGS, "--out", f / "run"], "run folder")  # listed
    assert f.read_text() == "x"


def test_read_only_run_folder_is_refused_before_training(tmp_path, capsys):  # listed
    with small_disk(tmp_path / "ro", options="ro"):
        refused(capsys, ["train", *MICRO_FLAGS, "--out", tmp_path / "ro" / "run"],
                "Read-only")


def test_outputs_into_missing_folders_are_refused_before_any_work(base, tmp_path, capsys):
    img = tmp_path / "x.png"
    Image.new("RGB", (20, 20), (9, 9, 9)).save(img)
    _, out = refused(capsys, ["predict", "--checkpoint", base["best"], img, "--explain",
                              tmp_path / "no" / "cam.png"], "does not exist")  # listed
    assert out == ""
    _, out = refused(capsys, ["evaluate", "--checkpoint", base["best"], "--confusion",
                              tmp_path / "no" / "c.png"], "does not exist")  # listed
    assert out == ""
    refused(capsys, ["evaluate", "--checkpoint", base["best"], "--confusion", tmp_path],
            "is a folder")  # added
    f = tmp_path / "study"
    f.write_text("x")
    refused(capsys, ["ablate", "--out", f, "--arch", "micro"], "is a file")  # listed


@pytest.mark.parametrize("top", ["-1", "0"])  # listed, listed
def test_predict_top_must_be_positive(top, base, tmp_path, capsys):
    refused(capsys, ["predict", "--checkpoint", base["best"], "x.png", "--top", top], "--top")


def test_predict_top_larger_than_the_classes_shows_all(base, tmp_path, capsys):  # added
    img = tmp_path / "x.png"
    Image.new("RGB", (20, 20), (9, 9, 9)).save(img)
    assert main(["predict", "--checkpoint", base["best"], img, "--top", "99", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["top"]) == 10


def test_predict_bad_images(base, tmp_path, capsys):  # added
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    refused(capsys, ["predict", "--checkpoint", base["best"], empty], "empty.png")
    refused(capsys, ["predict", "--checkpoint", base["best"], tmp_path], "folder")
    os.symlink(tmp_path / "gone.png", tmp_path / "dangling.png")
    refused(capsys, ["predict", "--checkpoint", base["best"], tmp_path / "dangling.png"],
            "dangling")
    half = tmp_path / "half.png"
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (1, 2, 3)).save(buf, format="PNG")
    half.write_bytes(buf.getvalue()[:60])
    refused(capsys, ["predict", "--checkpoint", base["best"], half], "half.png")
    refused(capsys, ["predict", "--checkpoint", base["best"], "/dev/null"], "not a regular")


# ---- resuming ----------------------------------------------------------------------------

@pytest.mark.parametrize("flags, words", [
    (["--arch", "nosuch"], "--arch 'nosuch'"),  # listed
    (["--arch", "cifar"], "--arch 'cifar'"),  # listed
    (["--batch-size", "8"], "--batch-size 8"),  # listed
    (["--data", "/elsewhere"], "--data '/elsewhere'"),  # listed
    (["--no-lrn"], "model switches"),  # added
    (["--seed", "5"], "--seed 5"),  # added
    (["--no-flip"], "--no-flip"),  # added
])
def test_resume_refuses_flags_that_define_the_run(flags, words, base, tmp_path, capsys):
    run = copy_run(base["run"], tmp_path / "run")
    before = (run / "last.npz").read_bytes()
    refused(capsys, resume_argv(run, *flags), words, "new --out")
    assert (run / "last.npz").read_bytes() == before


def test_resume_applies_and_reports_lr_and_epochs(base, tmp_path, capsys):  # listed
    run = copy_run(base["run"], tmp_path / "run")
    assert main(resume_argv(run, "--epochs", "2", "--lr", "0.005")) == 0
    out = capsys.readouterr().out
    assert "--lr 0.02 -> 0.005" in out and "--epochs 1 -> 2" in out
    assert "learning rate set to 0.005" in out
    epochs = [json.loads(x) for x in open(run / "metrics.jsonl")]
    assert [r["lr"] for r in epochs if r["type"] == "epoch"][-1] == 0.005
    assert meta_of(run / "last.npz")["settings"]["lr"] == 0.005


def test_existing_run_without_resume_is_refused(base, tmp_path, capsys):  # added
    run = copy_run(base["run"], tmp_path / "run")
    refused(capsys, ["train", *MICRO_FLAGS, "--out", run], "--resume")


def test_nan_stop_keeps_the_last_good_epoch_and_its_advice_works(base, tmp_path, capsys):
    """(listed) A run whose validation loss becomes NaN is not saved; --resume --lr X, the
    advice, really continues with X; --lr inf is refused."""
    run = copy_run(base["run"], tmp_path / "run")
    good = load_checkpoint(run / "last.npz")[0]
    line, _ = refused(capsys, resume_argv(run, "--epochs", "2", "--lr", "1e9"),
                      "became nan", "--resume --lr 1e+08")
    kept = load_checkpoint(run / "last.npz")
    assert kept[2]["epoch"] == 1
    for k in good:
        np.testing.assert_array_equal(good[k], kept[0][k])
    assert main(resume_argv(run, "--epochs", "2", "--lr", "0.001")) == 0
    assert "learning rate set to 0.001" in capsys.readouterr().out
    assert meta_of(run / "last.npz")["epoch"] == 2


def test_nan_before_any_checkpoint_advises_a_fresh_start(tmp_path, capsys):  # added
    refused(capsys, ["train", *MICRO_FLAGS, "--out", tmp_path / "r", "--lr", "1e9"],
            "start again with --lr")
    assert not (tmp_path / "r" / "last.npz").exists()


def test_nan_step_loss_stops_without_saving(base, tmp_path, monkeypatch):  # added
    run = copy_run(base["run"], tmp_path / "run")
    real = NumpyStepper.train_step
    calls = {"n": 0}

    def step(self, x, y):
        calls["n"] += 1
        return float("inf") if calls["n"] == 2 else real(self, x, y)

    monkeypatch.setattr(NumpyStepper, "train_step", step)
    s = TrainSettings(**{**meta_of(run / "last.npz")["settings"], "out": str(run),
                         "resume": True, "epochs": 2})
    with pytest.raises(train_module.TrainingDiverged, match="inf at step 6"):
        train(s, log=quiet)
    assert meta_of(run / "last.npz")["epoch"] == 1


def test_out_of_memory_is_one_line(tmp_path, capsys, monkeypatch):  # listed
    def oom(self, x, y):
        raise MemoryError("Unable to allocate 373. GiB for an array with shape (10, 10)")

    monkeypatch.setattr(NumpyStepper, "train_step", oom)
    refused(capsys, ["train", *MICRO_FLAGS, "--out", tmp_path / "r", "--batch-size", "16"],
            "not enough memory", "373. GiB", "--batch-size")


def test_half_written_metrics_line_is_dropped(base, tmp_path, capsys):  # listed (x2)
    run = copy_run(base["run"], tmp_path / "run")
    with open(run / "metrics.jsonl", "a") as f:
        f.write('{"type": "epoch", "st')
    assert main(["visualize", "curves", run]) == 0
    assert main(resume_argv(run, "--epochs", "2")) == 0
    records = [json.loads(x) for x in open(run / "metrics.jsonl")]  # every line parses again
    assert [r["epoch"] for r in records if r["type"] == "epoch"] == [1, 2]
    capsys.readouterr()


def test_garbage_metrics_lines_are_dropped(base, tmp_path, capsys):  # added
    run = copy_run(base["run"], tmp_path / "run")
    text = (run / "metrics.jsonl").read_text()
    (run / "metrics.jsonl").write_text("[1, 2]\n\x00\x01garbage\n" + text)
    assert main(["visualize", "curves", run]) == 0
    assert "epoch 1:" in capsys.readouterr().out


def test_ctrl_c_while_loading_data_says_nothing_was_saved(tmp_path, capsys, monkeypatch):
    """(listed) Ctrl-C during the cache build must not claim last.npz exists."""
    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(train_module, "load_data", interrupted)
    assert main(["train", *MICRO_FLAGS, "--out", tmp_path / "r"]) == 130
    err = capsys.readouterr().err
    assert "nothing was saved yet" in err and "last.npz" not in err


# ---- the run folder: locking, temporary files, best.npz, a full disk -------------------------

def test_second_training_into_the_same_folder_is_refused(base, tmp_path, capsys):  # listed
    run = copy_run(base["run"], tmp_path / "run")
    with RunLock(run):
        refused(capsys, resume_argv(run, "--epochs", "2"), "in use by another training run",
                f"pid {os.getpid()} on {socket.gethostname()}")
    assert meta_of(run / "last.npz")["epoch"] == 1


def test_lock_left_by_a_dead_process_does_not_block(base, tmp_path, capsys):  # listed
    run = copy_run(base["run"], tmp_path / "run")
    (run / ".lock").write_text(json.dumps({"pid": 999999999, "host": "x", "started": "t"}))
    assert main(resume_argv(run, "--epochs", "2")) == 0
    capsys.readouterr()


def test_stale_temporary_files_are_removed(base, tmp_path, capsys):  # listed
    run = copy_run(base["run"], tmp_path / "run")
    for name in ["last.npz.tmp", "best.npz.tmp", "last.npz.tmp-123-abcd1234"]:
        (run / name).write_bytes(b"partial")
    assert main(resume_argv(run, "--epochs", "1")) == 0
    assert not [n for n in os.listdir(run) if ".tmp" in n]
    capsys.readouterr()


def test_missing_best_npz_is_rewritten_on_resume(base, tmp_path, capsys):  # listed
    run = copy_run(base["run"], tmp_path / "run")
    os.remove(run / "best.npz")
    assert main(resume_argv(run, "--epochs", "1")) == 0
    assert "rewrote" in capsys.readouterr().out
    best, last = load_checkpoint(run / "best.npz"), load_checkpoint(run / "last.npz")
    for k in last[0]:
        np.testing.assert_array_equal(best[0][k], last[0][k])


def test_stale_best_npz_from_an_older_epoch_is_rewritten(base, tmp_path, capsys):  # listed
    """An older version saved last.npz before best.npz: killed in between, best.npz is one
    epoch behind although last.npz records the better error."""
    run = copy_run(base["run"], tmp_path / "run")
    meta = meta_of(run / "best.npz")
    tamper(run / "best.npz", run / "best.npz", meta={**meta, "epoch": 0})
    assert main(resume_argv(run, "--epochs", "1")) == 0
    assert "rewrote" in capsys.readouterr().out
    assert meta_of(run / "best.npz")["epoch"] == 1


def test_killed_between_the_two_saves_loses_nothing(base, tmp_path, monkeypatch):  # listed
    """Interrupted after best.npz and before last.npz of epoch 2: the resume redoes epoch 2
    and both files end equal to an uninterrupted run's."""
    straight = copy_run(base["run"], tmp_path / "straight")
    cut = copy_run(base["run"], tmp_path / "cut")
    settings = meta_of(base["last"])["settings"]
    # make epoch 2 an improvement whatever the error, so that best.npz is written
    monkeypatch.setattr(train_module, "validate", lambda run: {
        "top1_error": 0.5 / run.epoch if run.epoch else 0.5, "top5_error": 0.1, "loss": 1.0,
        "n_images": 16})
    train(TrainSettings(**{**settings, "out": str(straight), "resume": True, "epochs": 2}),
          log=quiet)
    real = train_module.save_checkpoint

    def dies_before_last(path, *a, **k):
        if os.path.basename(path) == "last.npz":
            raise KeyboardInterrupt
        return real(path, *a, **k)

    monkeypatch.setattr(train_module, "save_checkpoint", dies_before_last)
    with pytest.raises(KeyboardInterrupt):
        train(TrainSettings(**{**settings, "out": str(cut), "resume": True, "epochs": 2}),
              log=quiet)
    monkeypatch.setattr(train_module, "save_checkpoint", real)
    train(TrainSettings(**{**settings, "out": str(cut), "resume": True, "epochs": 2}),
          log=quiet)
    for name in ["last.npz", "best.npz"]:
        a, b = load_checkpoint(straight / name), load_checkpoint(cut / name)
        assert a[2]["epoch"] == b[2]["epoch"] == 2
        for k in a[0]:
            np.testing.assert_array_equal(a[0][k], b[0][k])


def test_full_disk_during_a_checkpoint_write(base, tmp_path, capsys):  # listed
    disk = tmp_path / "disk"
    with small_disk(disk, size="2m"):
        run = copy_run(base["run"], disk / "run")
        before = (run / "last.npz").read_bytes()
        fill_disk(disk, leave=12 * 1024)
        refused(capsys, resume_argv(run, "--epochs", "2"), "the disk is full")
        assert (run / "last.npz").read_bytes() == before
        assert not [n for n in os.listdir(run) if ".tmp" in n]
        os.remove(disk / "filler")
        assert main(resume_argv(run, "--epochs", "2")) == 0  # space freed: it continues
        capsys.readouterr()


def test_full_disk_when_the_run_starts(tmp_path, base, capsys):  # added
    disk = tmp_path / "disk"
    with small_disk(disk, size="1m"):
        fill_disk(disk)
        refused(capsys, ["train", *MICRO_FLAGS, "--cache-dir", base["cache"], "--out",
                         disk / "run"], "the disk is full")


def test_checkpoint_temp_names_are_unique(tmp_path, monkeypatch):  # listed
    """Two writers of the same checkpoint never share a temporary file."""
    seen = []
    real_replace = os.replace

    def spy(src, dst):
        seen.append(os.path.basename(src))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    from alexnet_np.checkpoint import save_checkpoint
    for _ in range(2):
        save_checkpoint(tmp_path / "c.npz", {"a.W": np.ones(2, np.float32)}, {"epoch": 1})
    assert len(set(seen)) == 2 and all(s.startswith(f"c.npz.tmp-{os.getpid()}-") for s in seen)


# ---- more commands ------------------------------------------------------------------------

def test_visualize_refuses_damaged_checkpoints(base, tmp_path, capsys):  # added (x2)
    bad = tamper(base["best"], tmp_path / "bad.npz",
                 **{"params/conv1.W": np.zeros((4, 4), np.float32)})
    refused(capsys, ["visualize", "filters", "--checkpoint", bad, "--out", tmp_path / "f.png"],
            "conv1.W")
    refused(capsys, ["visualize", "neighbors", "--checkpoint", base["best"], "--out",
                     tmp_path / "n.png", "--seed", "-1"], "--seed")


def test_explain_with_two_images_is_refused_first(base, tmp_path, capsys):  # added
    _, out = refused(capsys, ["predict", "--checkpoint", base["best"], "a.png", "b.png",
                              "--explain", tmp_path / "cam.png"], "one image")
    assert out == ""


def test_evaluate_batch_size_zero(base, capsys):  # added
    refused(capsys, ["evaluate", "--checkpoint", base["best"], "--batch-size", "0"],
            "--batch-size")


def test_image_that_claims_to_be_huge(base, tmp_path, capsys):  # added
    """A PNG whose header says 40000 x 40000 (a decompression bomb): refused, not decoded."""
    buf = io.BytesIO()
    Image.new("L", (1, 1)).save(buf, format="PNG")
    data = bytearray(buf.getvalue())
    data[16:24] = (40000).to_bytes(4, "big") * 2  # IHDR width and height
    (tmp_path / "bomb.png").write_bytes(bytes(data))
    refused(capsys, ["predict", "--checkpoint", base["best"], tmp_path / "bomb.png"],
            "bomb.png")


def test_library_warnings_print_as_one_line(capsys, monkeypatch):  # listed (grade's raw
    """warnings): any warning raised under the CLI prints as one "warning:" line, without a
    site-packages path or source line."""
    import warnings

    from alexnet_np.commands import info

    def warns(args):
        warnings.warn("Image size (100000000 pixels) exceeds limit", RuntimeWarning,
                      stacklevel=1)
        return 0

    monkeypatch.setattr(info, "run", warns)  # add_parser binds it when main builds the parser
    assert main(["info"]) == 0
    err = capsys.readouterr().err
    assert err == "warning: Image size (100000000 pixels) exceeds limit\n"


def test_sigint_during_training_saves_and_resumes(tmp_path):  # added
    """Ctrl-C in the middle of a run: exit 130, one line saying where the last epoch is; the
    resume then finishes the run."""
    import signal
    import subprocess
    import sys
    import time

    from hostile import ROOT

    argv = [sys.executable, "-m", "alexnet_np", "train", *MICRO_FLAGS, "--epochs", "200",
            "--out", tmp_path / "run", "--cache-dir", tmp_path / "cache"]
    proc = subprocess.Popen(list(map(str, argv)), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": ROOT})
    deadline = time.time() + 120
    while not (tmp_path / "run" / "last.npz").exists() and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in err, err
    assert "continue with --resume" in err
    epoch = load_checkpoint(tmp_path / "run" / "last.npz")[2]["epoch"]
    assert 1 <= epoch < 200
