"""Hostile data (issue 15): image folders with links, FIFOs, devices and unreadable folders;
damaged and stale caches; a full disk during a cache build; doctored CIFAR-10 files; EXIF
orientation. Each case builds its input in tmp_path and expects either a clean run with a
warning naming the file, or one line "alexnet-np CMD: error: ..." and no traceback.

Cases from the issue carry "(listed)", the others "(added)"; docs/reliability.md counts them.
"""

import os
import pickle
import shutil
import signal
import socket
import subprocess

import numpy as np
import pytest
from hostile import check_refusal, main, refused, run_child, small_disk
from PIL import Image

from alexnet_np.data import cifar10 as cifar_module
from alexnet_np.data import load_dataset, preprocess_image
from alexnet_np.data.imagefolder import load_image
from alexnet_np.errors import UserError

COLORS = [(200, 30, 30), (30, 200, 30)]


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ALEXNET_NP_CACHE", str(tmp_path / "cache"))


def image_folder(root, per_class=4, size=(24, 20)):
    """train/{a,b}/ with ``per_class`` PNGs each, val/{a,b}/ with two."""
    for split, n in (("train", per_class), ("val", 2)):
        for cls, color in zip("ab", COLORS, strict=True):
            os.makedirs(root / split / cls, exist_ok=True)
            for i in range(n):
                Image.new("RGB", size, color).save(root / split / cls / f"{i}.png")
    return root


def train_argv(data, tmp_path, *extra):
    return ["train", "--data", data, "--arch", "micro", "--batch-size", "4", "--epochs", "1",
            "--quiet", "--cache-dir", tmp_path / "cache", "--out", tmp_path / "run", *extra]


def trains_with_warning(capsys, data, tmp_path, *words):
    assert main(train_argv(data, tmp_path)) == 0
    err = capsys.readouterr().err
    assert "Traceback" not in err
    for w in words:
        assert w in err, err
    return err


# ---- odd files in an image folder ---------------------------------------------------------

def test_symlink_loop_is_skipped_with_a_warning(tmp_path, capsys):  # listed
    d = image_folder(tmp_path / "d")
    os.symlink("loop.png", d / "train" / "a" / "loop.png")
    trains_with_warning(capsys, d, tmp_path, "loop.png", "symbolic link loop")


def test_dangling_symlink_is_skipped_with_a_warning(tmp_path, capsys):  # listed
    d = image_folder(tmp_path / "d")
    os.symlink(tmp_path / "gone.png", d / "train" / "b" / "dangling.png")
    trains_with_warning(capsys, d, tmp_path, "dangling.png", "dangling")


def test_device_named_like_an_image_is_skipped(tmp_path, capsys):  # added
    d = image_folder(tmp_path / "d")
    os.symlink("/dev/zero", d / "train" / "a" / "zero.jpg")
    trains_with_warning(capsys, d, tmp_path, "zero.jpg", "device")


def test_fifo_in_the_data_folder_does_not_hang(tmp_path):  # listed
    d = image_folder(tmp_path / "d")
    os.mkfifo(d / "train" / "a" / "p.jpg")
    done = run_child(train_argv(d, tmp_path), timeout=120)
    assert done.returncode == 0, done.stderr
    assert "p.jpg" in done.stderr and "FIFO" in done.stderr
    assert "Traceback" not in done.stderr


def test_predict_and_evaluate_on_a_fifo_do_not_hang(tmp_path):  # listed (x2)
    fifo = tmp_path / "p.png"
    os.mkfifo(fifo)
    done = run_child(["predict", "--checkpoint", tmp_path / "missing.npz", fifo], timeout=60)
    check_refusal("predict", done.returncode, done.stderr, ["checkpoint"])
    # a real checkpoint, then the FIFO as the image and as the checkpoint
    d = image_folder(tmp_path / "d")
    assert run_child(train_argv(d, tmp_path), timeout=120).returncode == 0
    best = tmp_path / "run" / "best.npz"
    done = run_child(["predict", "--checkpoint", best, fifo], timeout=60)
    check_refusal("predict", done.returncode, done.stderr, ["FIFO"])
    done = run_child(["evaluate", "--checkpoint", fifo], timeout=60)
    check_refusal("evaluate", done.returncode, done.stderr, ["FIFO"])


def test_data_path_that_is_a_fifo(tmp_path, capsys):  # added
    os.mkfifo(tmp_path / "fifo")
    refused(capsys, train_argv(tmp_path / "fifo", tmp_path), "not a folder")


def test_empty_class_and_foreign_val_class(tmp_path, capsys):  # added (x2)
    d = image_folder(tmp_path / "d")
    os.makedirs(d / "train" / "c")
    refused(capsys, train_argv(d, tmp_path), "has no image files")
    os.rmdir(d / "train" / "c")
    image_folder(tmp_path / "e")
    os.makedirs(tmp_path / "e" / "val" / "zebra")
    Image.new("RGB", (9, 9)).save(tmp_path / "e" / "val" / "zebra" / "z.png")
    refused(capsys, train_argv(tmp_path / "e", tmp_path), "'zebra'")


# ---- unreadable folders (root reads everything: the refusal is simulated) --------------------

def deny(monkeypatch, folder):
    """os.listdir / os.scandir of ``folder`` raise PermissionError, as for a chmod 000."""
    real_listdir, real_scandir = os.listdir, os.scandir
    folder = os.fspath(folder)

    def check(path):
        if os.fspath(path) == folder:
            raise PermissionError(13, "Permission denied", folder)

    monkeypatch.setattr(os, "listdir", lambda p=".": check(p) or real_listdir(p))
    monkeypatch.setattr(os, "scandir", lambda p=".": check(p) or real_scandir(p))


@pytest.mark.parametrize("where", [
    "train",  # listed
    "val",  # listed
    "train/a",  # listed: was reported as "has no image files"
    "train/a/sub",  # listed: its images were silently dropped
    "val/b",  # added
])
def test_unreadable_folder_is_one_line(where, tmp_path, capsys, monkeypatch):
    d = image_folder(tmp_path / "d")
    os.makedirs(d / "train" / "a" / "sub")
    Image.new("RGB", (20, 20)).save(d / "train" / "a" / "sub" / "s.png")
    deny(monkeypatch, d / where)
    line, _ = refused(capsys, train_argv(d, tmp_path), "cannot read folder", "Permission denied",
                      "chmod")
    assert "has no image files" not in line


# ---- caches: damaged, stale, left over, full disk -----------------------------------------

def _entry(cache):
    (entry,) = [e for e in os.listdir(cache) if not e.startswith(".")]
    return cache / entry


DAMAGE = {  # listed: the seven variants of the issue
    "meta.json deleted": lambda e: os.remove(e / "meta.json"),
    "meta.json empty": lambda e: (e / "meta.json").write_text(""),
    "meta.json bad JSON": lambda e: (e / "meta.json").write_text("{not json"),
    "meta.json missing keys": lambda e: (e / "meta.json").write_text("{}"),
    "train_images.npy truncated": lambda e: os.truncate(e / "train_images.npy", 200),
    "stats.npz garbage": lambda e: (e / "stats.npz").write_bytes(b"garbage"),
    "val_labels.npy missing": lambda e: os.remove(e / "val_labels.npy"),
    "labels out of range (added)": lambda e: np.save(e / "train_labels.npy",
                                                     np.full(8, 7, np.int64)),
}


@pytest.mark.parametrize("case", list(DAMAGE))
def test_damaged_cache_entry_is_rebuilt(case, tmp_path, capsys):
    d = image_folder(tmp_path / "d")
    good = load_dataset(d, 18, cache_dir=tmp_path / "c", verbose=False)
    want = np.array(good.train_images)
    DAMAGE[case](_entry(tmp_path / "c"))
    again = load_dataset(d, 18, cache_dir=tmp_path / "c", verbose=False)
    np.testing.assert_array_equal(np.array(again.train_images), want)
    err = capsys.readouterr().err
    assert "damaged" in err or "incomplete" in err
    assert load_dataset(d, 18, cache_dir=tmp_path / "c", verbose=False).classes == ["a", "b"]


def test_edit_with_size_and_time_restored_is_seen(tmp_path):  # listed
    d = image_folder(tmp_path / "d")
    first = load_dataset(d, 18, cache_dir=tmp_path / "c", verbose=False)
    f = d / "train" / "a" / "0.png"
    st = os.stat(f)
    Image.new("RGB", (24, 20), (1, 2, 250)).save(tmp_path / "blue.png")
    data = (tmp_path / "blue.png").read_bytes()
    assert len(data) == st.st_size  # a same-size edit...
    f.write_bytes(data)
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))  # ...with the time put back (cp -p)
    second = load_dataset(d, 18, cache_dir=tmp_path / "c", verbose=False)
    assert first.cache_path != second.cache_path
    assert second.train_images[0].mean(axis=(0, 1))[2] > 200  # the new, blue pixels


def test_build_folders_of_killed_processes_are_removed(tmp_path):  # listed
    cache = tmp_path / "c"
    host = socket.gethostname()
    dead = subprocess.Popen(["true"])
    dead.wait()
    left = cache / f".tmp-{host}-imagefolder-x-S18-key-{dead.pid}"
    alive = cache / f".tmp-{host}-imagefolder-y-S18-key-{os.getpid()}"  # added: kept
    other = cache / ".tmp-otherhost-imagefolder-z-S18-key-1"  # added: not ours to judge
    for folder in (left, alive, other):
        os.makedirs(folder)
    load_dataset(image_folder(tmp_path / "d"), 18, cache_dir=cache, verbose=False)
    assert not left.exists() and alive.exists() and other.exists()


def test_sigkill_during_a_cache_build_leaves_nothing_for_long(tmp_path):  # listed
    d = image_folder(tmp_path / "d", per_class=400, size=(300, 300))
    env_argv = train_argv(d, tmp_path)
    proc = subprocess.Popen(["python", "-m", "alexnet_np", *map(str, env_argv)],
                            env={**os.environ, "PYTHONPATH": os.getcwd()},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cache = tmp_path / "cache"
    for _ in range(600):  # wait until the build folder exists, then kill
        if cache.exists() and any(n.startswith(".tmp-") for n in os.listdir(cache)):
            break
        if proc.poll() is not None:
            break
        subprocess.run(["sleep", "0.05"])
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    load_dataset(image_folder(tmp_path / "e"), 18, cache_dir=cache, verbose=False)
    assert not [n for n in os.listdir(cache) if n.startswith(".tmp-")]


def test_cache_folder_that_is_a_file(tmp_path, capsys):  # added
    (tmp_path / "cfile").write_text("x")
    argv = train_argv("synthetic", tmp_path, "--train-size", "16", "--val-size", "4")
    argv[argv.index("--cache-dir") + 1] = tmp_path / "cfile"
    refused(capsys, argv, "cache folder")


def test_full_disk_while_building_the_synthetic_cache(tmp_path, capsys):  # listed
    with small_disk(tmp_path / "disk", size="1m"):
        argv = train_argv("synthetic", tmp_path, "--train-size", "2000", "--val-size", "16")
        argv[argv.index("--cache-dir") + 1] = tmp_path / "disk"
        refused(capsys, argv, "the disk is full", "--cache-dir")
        assert os.listdir(tmp_path / "disk") == []  # the partial build is gone


def test_full_disk_while_building_an_image_folder_cache(tmp_path):  # listed
    """Was a "Bus error" (SIGBUS on a memory map of a sparse file): run in a child."""
    d = image_folder(tmp_path / "d")
    with small_disk(tmp_path / "disk", size="1m"):
        code = ("import sys\nfrom alexnet_np.data import load_dataset\n"
                "from alexnet_np.errors import UserError\n"
                f"try:\n    load_dataset({str(d)!r}, 256, cache_dir={str(tmp_path / 'disk')!r},"
                " verbose=False)\nexcept UserError as e:\n    print(e, file=sys.stderr)\n"
                "    sys.exit(2)\n")
        done = subprocess.run(["python", "-c", code], capture_output=True, text=True,
                              timeout=120, env={**os.environ, "PYTHONPATH": os.getcwd()})
        assert done.returncode == 2, (done.returncode, done.stderr)
        assert "the disk is full" in done.stderr and "Traceback" not in done.stderr
        assert os.listdir(tmp_path / "disk") == []


# ---- EXIF orientation -----------------------------------------------------------------------

def _exif_pair(tmp_path):
    """A 40x20 JPEG stored unrotated with Orientation=6, and the same picture rotated."""
    pixels = np.zeros((20, 40, 3), np.uint8)
    pixels[:, :20] = (250, 0, 0)  # left half red, right half blue
    pixels[:, 20:] = (0, 0, 250)
    img = Image.fromarray(pixels)
    exif = img.getexif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to view"
    img.save(tmp_path / "tagged.jpg", exif=exif, quality=95)
    img.transpose(Image.Transpose.ROTATE_270).save(tmp_path / "upright.jpg", quality=95)
    return tmp_path / "tagged.jpg", tmp_path / "upright.jpg"


def test_exif_orientation_is_applied_in_training_data(tmp_path):  # listed (train, evaluate)
    tagged, upright = _exif_pair(tmp_path)
    a, b = load_image(tagged, 16).astype(int), load_image(upright, 16).astype(int)
    assert np.abs(a - b).max() < 40  # JPEG noise only
    assert a[:4, :, 0].mean() > 150 and a[-4:, :, 2].mean() > 150  # red on top, blue below


def test_exif_orientation_is_applied_in_predict(tmp_path):  # listed
    tagged, upright = _exif_pair(tmp_path)
    mean = np.zeros((3, 16, 16), np.float32)
    a = preprocess_image(tagged, 16, 16, mean)
    b = preprocess_image(upright, 16, 16, mean)
    assert np.abs(a - b).max() < 40


# ---- CIFAR-10 ------------------------------------------------------------------------------

def cifar_folder(root, data=None, labels=None, test_labels=None, meta=None, raw=None):
    """A CIFAR-10 python folder with 8 images per batch; pieces replaced as asked."""
    os.makedirs(root, exist_ok=True)
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        d = {b"data": rng.integers(0, 256, (8, 3072), dtype=np.uint8) if data is None else data,
             b"labels": list(rng.integers(0, 10, 8)) if labels is None else labels}
        if name == "test_batch" and test_labels is not None:
            d[b"labels"] = test_labels
        (root / name).write_bytes(pickle.dumps(d))
    names = [n.encode() for n in "abcdefghij"]
    (root / "batches.meta").write_bytes(
        pickle.dumps({b"label_names": names} if meta is None else meta))
    for name, content in (raw or {}).items():
        (root / name).write_bytes(content)
    return root


class Payload:
    """A pickle that would create a file when loaded."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (shutil.copy, ("/etc/hostname", self.path))


CIFAR_CASES = {
    "labels above 9 (listed)": (dict(labels=[10] * 8), "outside 0..9"),
    "label 255 in test_batch (listed)": (dict(test_labels=[255] + [0] * 7), "outside 0..9"),
    "batches.meta with 3 names (listed)": (dict(meta={b"label_names": [b"a", b"b", b"c"]}),
                                           "ten label_names"),
    "batches.meta holding a list (listed)": (dict(meta=[b"a"] * 10), "ten label_names"),
    "values above 255 (listed)": (dict(data=np.full((8, 3072), 300, np.int64)), "0..255"),
    "float values above 255 (listed)": (dict(data=np.full((8, 3072), 300.0)), "0..255"),
    "negative labels (added)": (dict(labels=[-1] * 8), "outside 0..9"),
    "fractional pixel values (added)": (dict(data=np.full((8, 3072), 0.5)), "0..255"),
    "data of the wrong shape (added)": (dict(data=np.zeros((8, 100), np.uint8)), "shape"),
    "labels and images differ in number (added)": (dict(labels=[1] * 5), "5 labels"),
    "string data (added)": (dict(data=np.array(["x"] * 8)), "dtype"),
    "truncated batch (added)": (dict(raw={"data_batch_2": pickle.dumps({b"data": 1})[:9]}),
                                "cannot read"),
    "a batch that is not a dict (added)": (dict(raw={"data_batch_3": pickle.dumps([1, 2])}),
                                           "not a data batch"),
}


@pytest.mark.parametrize("case", list(CIFAR_CASES))
def test_doctored_cifar_is_one_line(case, tmp_path, capsys):
    kw, words = CIFAR_CASES[case]
    folder = cifar_folder(tmp_path / "cifar", **kw)
    refused(capsys, train_argv(folder, tmp_path), words)


def test_malicious_pickle_is_refused_before_it_runs(tmp_path, capsys):  # listed
    marker = tmp_path / "pwned"
    folder = cifar_folder(tmp_path / "cifar", raw={"data_batch_1": pickle.dumps(
        {b"data": Payload(str(marker)), b"labels": [0]})})
    refused(capsys, train_argv(folder, tmp_path), "refused to load")
    assert not marker.exists()


def test_channels_last_cifar_data_is_read_as_such(tmp_path):  # listed
    nchw = np.random.default_rng(1).integers(0, 256, (8, 3, 32, 32), dtype=np.uint8)
    a = cifar_folder(tmp_path / "flat", data=nchw.reshape(8, 3072))
    b = cifar_folder(tmp_path / "nhwc", data=nchw.transpose(0, 2, 3, 1).copy())
    images_a, _ = cifar_module.read_batch(a / "data_batch_1")
    images_b, _ = cifar_module.read_batch(b / "data_batch_1")
    np.testing.assert_array_equal(images_a, images_b)


def test_official_style_batches_still_load(tmp_path):  # added: the allow-list is enough
    folder = cifar_folder(tmp_path / "cifar")
    for protocol in (2, 4, 5):
        d = {b"data": np.zeros((8, 3072), np.uint8), b"labels": [1] * 8,
             b"batch_label": b"x", b"filenames": [b"f.png"] * 8}
        (folder / "data_batch_1").write_bytes(pickle.dumps(d, protocol=protocol))
        images, labels = cifar_module.read_batch(folder / "data_batch_1")
        assert images.shape == (8, 32, 32, 3) and labels.tolist() == [1] * 8


def test_user_error_is_raised_by_the_library_too(tmp_path):  # added
    with pytest.raises(UserError, match="outside 0..9"):
        load_dataset(cifar_folder(tmp_path / "c", labels=[12] * 8), 32, verbose=False)


def test_read_only_cache_folder(tmp_path, capsys):  # added
    with small_disk(tmp_path / "ro", options="ro"):
        argv = train_argv("synthetic", tmp_path, "--train-size", "16", "--val-size", "4")
        argv[argv.index("--cache-dir") + 1] = tmp_path / "ro" / "cache"
        refused(capsys, argv, "cache folder", "Read-only")


@pytest.mark.parametrize("data, words", [
    ("", "neither an image folder nor CIFAR-10"),  # added
    ("/nonexistent/data", "does not exist"),  # added
])
def test_data_paths_that_are_not_data(data, words, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    refused(capsys, train_argv(data, tmp_path), words)


def test_synthetic_split_of_zero_images(tmp_path, capsys):  # added
    refused(capsys, train_argv("synthetic", tmp_path, "--train-size", "0"), "--train-size")
