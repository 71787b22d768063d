"""Every example program runs to the end on tiny data (written by the test itself)."""

import pickle
import runpy
import sys

import numpy as np
from PIL import Image

EXAMPLES = "examples"


def run_example(name, argv, monkeypatch):
    """Run an example as `python examples/NAME ARGV...`; its exit status (0 if it just ends)."""
    monkeypatch.setattr(sys, "argv", [name, *argv])
    try:
        runpy.run_path(f"{EXAMPLES}/{name}", run_name="__main__")
    except SystemExit as exc:
        return exc.code
    return 0


def test_hand_written_loop(tmp_path, monkeypatch, capsys):
    code = run_example("hand_written_loop.py", ["--arch", "micro", "--steps", "6",
                                                "--batch-size", "8", "--train-size", "64",
                                                "--cache-dir", str(tmp_path)], monkeypatch)
    assert code == 0
    out = capsys.readouterr().out
    assert "validation top-1 error after 6 steps" in out
    assert "step 6: training loss" in out and "conv1 -> relu1 -> lrn1" in out


def test_train_image_folder(tmp_path, monkeypatch, capsys):
    rng = np.random.default_rng(0)
    for split, n in [("train", 6), ("val", 2)]:
        for cls, colour in [("red", (220, 20, 20)), ("blue", (20, 20, 220))]:
            folder = tmp_path / "photos" / split / cls
            folder.mkdir(parents=True)
            for i in range(n):
                noise = rng.integers(0, 30, (24, 30, 3))
                img = np.clip(np.array(colour) + noise, 0, 255).astype(np.uint8)
                Image.fromarray(img).save(folder / f"{i}.jpg")
    code = run_example("train_image_folder.py", [str(tmp_path / "photos"), "--arch", "micro",
                                                 "--epochs", "1", "--batch-size", "4",
                                                 "--out", str(tmp_path / "run"),
                                                 "--cache-dir", str(tmp_path / "c")],
                       monkeypatch)
    assert code == 0
    assert (tmp_path / "run" / "best.npz").exists()


def test_train_cifar10(tmp_path, monkeypatch):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(1)

    def batch(n):
        return {b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                b"labels": list(rng.integers(0, 10, n))}

    for i in range(1, 6):
        (folder / f"data_batch_{i}").write_bytes(pickle.dumps(batch(8)))
    (folder / "test_batch").write_bytes(pickle.dumps(batch(8)))
    names = [n.encode() for n in ["airplane", "automobile", "bird", "cat", "deer", "dog",
                                  "frog", "horse", "ship", "truck"]]
    (folder / "batches.meta").write_bytes(pickle.dumps({b"label_names": names}))
    code = run_example("train_cifar10.py", [str(folder), "--epochs", "1", "--batch-size", "8",
                                            "--max-steps", "2", "--out", str(tmp_path / "run"),
                                            "--cache-dir", str(tmp_path / "c")], monkeypatch)
    assert code == 0
