"""Loading data sets: synthetic determinism, image folders, CIFAR-10, caching, bad input."""

import os
import pickle

import numpy as np
import pytest
from PIL import Image

from alexnet_np.data import load_dataset, preprocess_image
from alexnet_np.data.synthetic import CLASSES, generate_split
from alexnet_np.errors import UserError

S = 12
# Class k of the test image folders is painted COLORS[k], so the label can be read back.
COLORS = {"ant": (200, 30, 30), "bee": (30, 200, 30), "cat": (30, 30, 200)}


@pytest.fixture(autouse=True)
def cache_env(tmp_path, monkeypatch):
    """Every test gets its own cache folder (never the user's ~/.cache)."""
    monkeypatch.setenv("ALEXNET_NP_CACHE", str(tmp_path / "cache"))


def save(path, color, size=(20, 14), mode="RGB", fmt=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    img = Image.new("RGB", size, color)
    if mode != "RGB":
        img = img.convert(mode)
    img.save(path, format=fmt)


def make_folder(root, val=True):
    """train/ with 3 classes x 4 images in assorted formats; val/ with 2 per class."""
    for cls, color in COLORS.items():
        save(root / "train" / cls / "a.png", color)
        save(root / "train" / cls / "b.JPG", color, size=(14, 20))
        save(root / "train" / cls / "c.png", color, mode="RGBA")
        save(root / "train" / cls / "nested" / "d.bmp", color)
        if val:
            save(root / "val" / cls / "v1.jpeg", color)
            save(root / "val" / cls / "v2.png", color, mode="P")
    (root / "train" / "ant" / "notes.txt").write_text("not an image")
    (root / "train" / "ant" / ".hidden.png").write_bytes(b"junk")
    return root


def color_labels(images):
    """Which COLORS entry each image is closest to, by its mean colour."""
    table = np.array(list(COLORS.values()), dtype=np.float64)  # (3, 3)
    means = images.reshape(len(images), -1, 3).mean(axis=1)  # (N, 3)
    return np.argmin(((means[:, None, :] - table[None]) ** 2).sum(-1), axis=1)


# ---- synthetic ---------------------------------------------------------------------------

def test_synthetic_is_deterministic_and_splits_differ():
    a, la = generate_split(3, "train", 12, 16)
    b, lb = generate_split(3, "train", 12, 16)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(la, lb)
    c, _ = generate_split(4, "train", 12, 16)
    v, _ = generate_split(3, "val", 12, 16)
    assert not np.array_equal(a, c) and not np.array_equal(a, v)
    # Image i does not depend on how many are drawn.
    d, _ = generate_split(3, "train", 5, 16)
    np.testing.assert_array_equal(a[:5], d)
    assert a.dtype == np.uint8 and a.shape == (12, 16, 16, 3)
    assert a.std() > 20  # not blank


def test_synthetic_dataset_is_cached_and_balanced(tmp_path, capsys):
    ds = load_dataset("synthetic", 16, seed=1, synthetic_train=30, synthetic_val=20)
    assert ds.name == "synthetic" and ds.source == "synthetic"
    assert ds.classes == CLASSES and len(CLASSES) >= 10
    assert ds.train_images.shape == (30, 16, 16, 3) and ds.val_images.shape == (20, 16, 16, 3)
    assert ds.train_labels.dtype == np.int64
    assert np.bincount(ds.val_labels, minlength=10).tolist() == [2] * 10
    assert ds.mean_image.shape == (3, 16, 16) and ds.mean_image.dtype == np.float32
    np.testing.assert_allclose(ds.mean_image,
                               ds.train_images.mean(0).transpose(2, 0, 1), rtol=1e-5)
    assert ds.pca_eigvals.shape == (3,) and ds.pca_eigvecs.shape == (3, 3)
    assert "building" in capsys.readouterr().err
    again = load_dataset("synthetic", 16, seed=1, synthetic_train=30, synthetic_val=20)
    assert "building" not in capsys.readouterr().err
    assert isinstance(again.train_images, np.memmap)
    np.testing.assert_array_equal(again.train_images, ds.train_images)
    assert again.cache_path == ds.cache_path


# ---- image folder ------------------------------------------------------------------------

def test_image_folder_loads_with_correct_labels(tmp_path):
    root = make_folder(tmp_path / "data")
    ds = load_dataset(str(root), S, verbose=False)
    assert ds.name == "imagefolder" and ds.source == str(root)
    assert ds.classes == ["ant", "bee", "cat"]
    assert ds.train_images.shape == (12, S, S, 3) and ds.val_images.shape == (6, S, S, 3)
    np.testing.assert_array_equal(ds.train_labels, color_labels(np.asarray(ds.train_images)))
    np.testing.assert_array_equal(ds.val_labels, color_labels(np.asarray(ds.val_images)))
    assert ds.skipped == []


def test_image_folder_cache_is_reused_and_rebuilt_when_files_change(tmp_path, capsys):
    root = make_folder(tmp_path / "data")
    first = load_dataset(str(root), S)
    capsys.readouterr()
    second = load_dataset(str(root), S)
    assert "building" not in capsys.readouterr().err and second.cache_path == first.cache_path
    save(root / "train" / "bee" / "new.png", COLORS["bee"])
    third = load_dataset(str(root), S)
    assert "building" in capsys.readouterr().err
    assert len(third.train_labels) == 13 and third.cache_path != first.cache_path
    assert not os.path.exists(first.cache_path)  # the stale entry is gone
    assert not [f for f in os.listdir(os.path.dirname(first.cache_path)) if f.startswith(".tmp")]


def test_corrupt_image_is_skipped_with_a_warning_naming_it(tmp_path, capsys):
    root = make_folder(tmp_path / "data")
    bad = root / "train" / "bee" / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    truncated = root / "val" / "cat" / "cut.png"
    data = (root / "val" / "cat" / "v2.png").read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    ds = load_dataset(str(root), S)
    err = capsys.readouterr().err
    assert str(bad) in err and str(truncated) in err
    assert "skipped 2 unreadable image(s)" in err
    assert len(ds.train_labels) == 12 and len(ds.val_labels) == 6
    assert sorted(ds.skipped) == sorted([str(bad), str(truncated)])
    np.testing.assert_array_equal(ds.train_labels, color_labels(np.asarray(ds.train_images)))
    again = load_dataset(str(root), S)  # from the cache: the count is repeated
    assert "2 unreadable image(s) were left out" in capsys.readouterr().err
    assert len(again.train_labels) == 12


def test_missing_val_holds_out_every_tenth_image(tmp_path):
    root = tmp_path / "data"
    for i in range(10):
        save(root / "train" / "ant" / f"{i}.png", COLORS["ant"])
        save(root / "train" / "bee" / f"{i}.png", COLORS["bee"])
    ds = load_dataset(str(root), S, verbose=False)
    assert len(ds.train_labels) == 18 and ds.val_labels.tolist() == [0, 1]


def test_tiny_imagenet_val_layout(tmp_path):
    root = tmp_path / "tiny"
    lines = []
    for k, (cls, color) in enumerate(COLORS.items()):
        save(root / "train" / cls / "images" / f"{cls}_0.JPEG", color)
        (root / "train" / cls / f"{cls}_boxes.txt").write_text("x\n")
        save(root / "val" / "images" / f"val_{k}.JPEG", color)
        lines.append(f"val_{k}.JPEG\t{cls}\t0\t0\t10\t10")
    (root / "val" / "val_annotations.txt").write_text("\n".join(lines) + "\n")
    ds = load_dataset(str(root), S, verbose=False)
    assert ds.classes == list(COLORS)
    assert ds.val_labels.tolist() == [0, 1, 2]
    np.testing.assert_array_equal(ds.val_labels, color_labels(np.asarray(ds.val_images)))


# ---- CIFAR-10 ----------------------------------------------------------------------------

def write_cifar(folder, per_batch=4):
    """A tiny CIFAR-10 python folder: image k has R, G, B = 10, 20, 30 + label."""
    folder.mkdir(parents=True)
    names = [f"c{i}" for i in range(10)]
    with open(folder / "batches.meta", "wb") as fh:
        pickle.dump({b"label_names": [n.encode() for n in names]}, fh)
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        labels = rng.integers(0, 10, per_batch).tolist()
        data = np.empty((per_batch, 3, 32, 32), dtype=np.uint8)  # (N, 3, 32, 32)
        for k, label in enumerate(labels):
            data[k, 0], data[k, 1], data[k, 2] = 10 + label, 20 + label, 30 + label
        data[:, 0, 0, 1] = 250  # one marked pixel: row 0, column 1, red
        with open(folder / name, "wb") as fh:
            pickle.dump({b"data": data.reshape(per_batch, 3072), b"labels": labels}, fh)
    return names


def test_cifar10_folder_loads_with_correct_labels(tmp_path):
    names = write_cifar(tmp_path / "cifar-10-batches-py")
    for spec in (tmp_path / "cifar-10-batches-py", tmp_path):  # the folder or its parent
        ds = load_dataset(str(spec), 32, verbose=False)
        assert ds.name == "cifar10" and ds.classes == names
        assert ds.train_images.shape == (20, 32, 32, 3) and ds.val_images.shape == (4, 32, 32, 3)
        for images, labels in ((ds.train_images, ds.train_labels),
                               (ds.val_images, ds.val_labels)):
            np.testing.assert_array_equal(images[:, 5, 5, 0], 10 + labels)
            np.testing.assert_array_equal(images[:, 5, 5, 2], 30 + labels)
            assert np.all(images[:, 0, 1, 0] == 250)  # HWC order, not CHW
    small = load_dataset(str(tmp_path), 16, verbose=False)
    assert small.train_images.shape == (20, 16, 16, 3)


def test_cifar10_missing_or_damaged_batch(tmp_path):
    write_cifar(tmp_path / "c")
    os.remove(tmp_path / "c" / "data_batch_3")
    with pytest.raises(UserError, match="data_batch_3"):
        load_dataset(str(tmp_path / "c"), 32, verbose=False)
    write_cifar(tmp_path / "d")
    (tmp_path / "d" / "test_batch").write_bytes(b"garbage")
    with pytest.raises(UserError, match="test_batch"):
        load_dataset(str(tmp_path / "d"), 32, verbose=False)


# ---- bad input ---------------------------------------------------------------------------

def test_missing_path(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        load_dataset(str(tmp_path / "nope"), S)


def test_path_that_is_a_file(tmp_path):
    f = tmp_path / "imagenette.tgz"
    f.write_bytes(b"x")
    with pytest.raises(UserError, match="extract"):
        load_dataset(str(f), S)


def test_folder_of_neither_layout(tmp_path):
    save(tmp_path / "x" / "a.png", (1, 2, 3))
    with pytest.raises(UserError, match="expected PATH/train/<class>"):
        load_dataset(str(tmp_path / "x"), S)


def test_missing_train_folder(tmp_path):
    save(tmp_path / "x" / "val" / "ant" / "a.png", (1, 2, 3))
    with pytest.raises(UserError, match="no train/ folder.*expected PATH/train/<class>"):
        load_dataset(str(tmp_path / "x"), S)


def test_train_without_class_folders(tmp_path):
    save(tmp_path / "x" / "train" / "a.png", (1, 2, 3))
    with pytest.raises(UserError, match="no class folders"):
        load_dataset(str(tmp_path / "x"), S)


def test_empty_class_folder(tmp_path):
    root = make_folder(tmp_path / "data")
    (root / "train" / "dog").mkdir()
    (root / "train" / "dog" / "readme.txt").write_text("no images here")
    with pytest.raises(UserError, match=r"train[/\\]dog has no image files"):
        load_dataset(str(root), S)


def test_val_class_not_in_train(tmp_path):
    root = make_folder(tmp_path / "data")
    save(root / "val" / "zebra" / "z.png", (9, 9, 9))
    with pytest.raises(UserError, match="'zebra'"):
        load_dataset(str(root), S)


def test_bad_image_size():
    with pytest.raises(UserError, match="image size"):
        load_dataset("synthetic", 3)


# ---- predict-time preprocessing ----------------------------------------------------------

def test_preprocess_image(tmp_path):
    path = tmp_path / "one.png"
    save(path, (100, 150, 200), size=(30, 20))
    mean = np.full((3, S, S), 50.0, dtype=np.float32)
    x = preprocess_image(str(path), S, 8, mean, scale=0.5)
    assert x.shape == (3, 8, 8) and x.dtype == np.float32
    np.testing.assert_allclose(x[:, 0, 0], [25.0, 50.0, 75.0], atol=0.5)
    np.testing.assert_array_equal(preprocess_image(Image.open(path), S, 8, mean, 0.5), x)
    with pytest.raises(UserError, match="does not exist"):
        preprocess_image(str(tmp_path / "missing.png"), S, 8, mean)
    (tmp_path / "bad.jpg").write_bytes(b"nope")
    with pytest.raises(UserError, match="cannot read"):
        preprocess_image(str(tmp_path / "bad.jpg"), S, 8, mean)
