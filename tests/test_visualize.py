"""Figures: conv1 filters (Fig. 3), fc7 nearest neighbours (Fig. 4), curves, confusion matrix,
Grad-CAM. On the micro preset and a tiny synthetic set."""

import json

import numpy as np
import pytest
from PIL import Image

from alexnet_np import cli
from alexnet_np.data import load_dataset
from alexnet_np.tools.visualize import (
    colour_fraction,
    confusion_matrix,
    extract_features,
    filter_halves,
    gradcam,
    kernel_mosaic,
    nearest_neighbors,
)
from alexnet_np.train import TrainSettings, load_for_inference, train


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A micro run, 2 epochs on 64 train / 24 val synthetic images."""
    root = tmp_path_factory.mktemp("vis")
    s = TrainSettings(arch="micro", synthetic_train=64, synthetic_val=24, batch_size=16,
                      epochs=2, progress=False, out=str(root / "run"),
                      cache_dir=str(root / "cache"), log_every=2)
    train(s, log=lambda _m: None)
    ds = load_dataset("synthetic", 18, seed=0, cache_dir=str(root / "cache"),
                      synthetic_train=64, synthetic_val=24, verbose=False)
    return root, root / "run" / "last.npz", ds


def test_colour_fraction_grey_is_zero_and_opponent_is_one():
    rng = np.random.default_rng(0)
    grey = np.repeat(rng.standard_normal((2, 1, 3, 3)), 3, axis=1)  # (2, 3, 3, 3) R = G = B
    opponent = np.zeros((1, 3, 3, 3))
    opponent[0, 0], opponent[0, 1] = 1.0, -1.0  # red against green, no grey part
    np.testing.assert_allclose(colour_fraction(grey), 0.0, atol=1e-12)
    np.testing.assert_allclose(colour_fraction(opponent), 1.0)
    f = colour_fraction(rng.standard_normal((5, 3, 4, 4)))
    assert f.shape == (5,) and np.all((0 <= f) & (f <= 1))


def test_filter_halves_follow_the_groups():
    W = np.arange(6 * 3 * 2 * 2, dtype=float).reshape(6, 3, 2, 2)
    halves = filter_halves(W, grouped=True)
    assert [h[1] for h in halves] == [0, 3]
    np.testing.assert_array_equal(halves[1][2], W[3:])
    assert len(filter_halves(W, grouped=False)) == 1
    mosaic = kernel_mosaic(W[:4], cols=2, upscale=3)
    assert mosaic.shape == (2 * 7 + 1, 2 * 7 + 1, 3) and 0 <= mosaic.min() <= mosaic.max() <= 1


def test_visualize_filters_command(run, tmp_path, capsys):
    _, ckpt, _ = run
    out = tmp_path / "filters.png"
    assert cli.main(["visualize", "filters", "--checkpoint", str(ckpt), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "kernels 0-3" in text and "kernels 4-7" in text and "colour fraction" in text
    assert "training moved conv1 by" in text  # distance from the rebuilt initialisation
    with Image.open(out) as im:
        assert im.size[0] > 200 and im.size[1] > 200


def test_nearest_neighbour_of_a_training_image_is_itself(run):
    _, ckpt, ds = run
    # fast=True, as the visualize command: the fast layers compute each image the same way at
    # any batch size; the reference layers' BLAS products do not (float32, measured on this
    # micro net: 3.6e-7 at conv3 between a batch of 64 and one of 2, ~2e-6 relative at fc7).
    model, stepper, _, _ = load_for_inference(ckpt, fast=True)
    scale = model.cfg.input_scale
    db = extract_features(stepper, ds, "train", scale=scale)  # (64, 16)
    assert db.shape == (64, model.cfg.hidden[-1])
    some = extract_features(stepper, ds, "train", [9, 2, 40], scale=scale, batch_size=2)
    np.testing.assert_allclose(some, db[[9, 2, 40]], rtol=1e-6, atol=1e-6)
    idx, dist = nearest_neighbors(db[[7, 30]], db, k=5)
    assert idx.shape == dist.shape == (2, 5)
    for row, drow, me in zip(idx, dist, (7, 30), strict=True):
        assert me in row and drow[list(row).index(me)] == 0.0
        assert drow[0] == 0.0 and np.all(np.diff(drow) >= 0)


def test_visualize_neighbors_command(run, tmp_path, capsys):
    _, ckpt, _ = run
    out = tmp_path / "nn.png"
    assert cli.main(["visualize", "neighbors", "--checkpoint", str(ckpt), "--out", str(out),
                     "--queries", "3", "--k", "4"]) == 0
    text = capsys.readouterr().out
    assert text.count("val ") == 3 and text.count("  4. train") == 3
    assert "among 64 training images" in text
    with Image.open(out) as im:
        assert im.size[0] > 300


def test_visualize_curves_command(run, tmp_path, capsys):
    root, _, _ = run
    out = tmp_path / "c.png"
    assert cli.main(["visualize", "curves", str(root / "run"), "--out", str(out)]) == 0
    assert "epoch 2:" in capsys.readouterr().out and out.stat().st_size > 1000
    assert cli.main(["visualize", "curves", str(tmp_path)]) == 2
    assert "no metrics.jsonl" in capsys.readouterr().err


def test_confusion_matrix_counts_every_val_image(run, tmp_path, capsys):
    _, ckpt, ds = run
    model, stepper, _, _ = load_for_inference(ckpt)
    cm = confusion_matrix(stepper, ds, model.cfg.input_scale)
    assert cm.shape == (10, 10) and cm.sum() == 24
    np.testing.assert_array_equal(cm.sum(axis=1), np.bincount(ds.val_labels, minlength=10))
    out = tmp_path / "cm.png"
    assert cli.main(["evaluate", "--checkpoint", str(ckpt), "--json", "--confusion",
                     str(out)]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert abs(result["top1_error"] - (1 - np.trace(cm) / 24)) < 1e-12
    assert out.stat().st_size > 1000


def test_gradcam_gradients_match_finite_differences(run):
    _, ckpt, ds = run
    model, _, _, _ = load_for_inference(ckpt)
    model.astype(np.float64)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 15, 15))
    res = gradcam(model, x)
    assert res["cam"].shape == (15, 15) and 0 <= res["cam"].min() <= res["cam"].max() <= 1
    A, g, c = res["activations"], res["gradients"], res["class_index"]
    assert res["weights"].shape == (A.shape[0],)
    names = [n for n, _ in model.layers]
    tail = model.layers[names.index("relu5") + 1:]

    def logit(a):
        out = a[None]
        for _, layer in tail:
            out = layer.forward(out)
        return out[0, c]

    eps = 1e-6
    # entries where A > 0: at A = 0 (ReLU'd, and tied in the max-pool) the logit has a kink
    positive = np.argwhere(A > 1e-3)
    assert len(positive) >= 3
    picks = positive[rng.choice(len(positive), 3, replace=False)]
    for ch, i, j in picks:
        plus, minus = A.copy(), A.copy()
        plus[ch, i, j] += eps
        minus[ch, i, j] -= eps
        numeric = (logit(plus) - logit(minus)) / (2 * eps)
        assert abs(numeric - g[ch, i, j]) <= 1e-5 * max(1.0, abs(numeric)), (ch, i, j)
    expected = np.maximum(np.tensordot(g.mean(axis=(1, 2)), A, axes=1), 0)
    np.testing.assert_allclose(res["cam_small"], expected)


def test_predict_explain_writes_a_map(run, tmp_path, capsys):
    _, ckpt, _ = run
    img = tmp_path / "img.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (20, 24, 3), dtype=np.uint8)
                    ).save(img)
    out = tmp_path / "cam.png"
    assert cli.main(["predict", "--checkpoint", str(ckpt), str(img), "--explain",
                     str(out)]) == 0
    assert "Grad-CAM written" in capsys.readouterr().out and out.stat().st_size > 1000


def test_visualize_errors_are_one_line(tmp_path, capsys):
    assert cli.main(["visualize", "filters", "--checkpoint", str(tmp_path / "none.npz"),
                     "--out", str(tmp_path / "f.png")]) == 2
    assert "does not exist" in capsys.readouterr().err
