"""BatchLoader: shapes, augmentation only in training, determinism with and without prefetch."""

import numpy as np
import pytest

from alexnet_np.data import BatchLoader, load_dataset
from alexnet_np.errors import UserError


@pytest.fixture(scope="module")
def ds(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    return load_dataset("synthetic", 14, seed=0, cache_dir=str(cache), synthetic_train=50,
                        synthetic_val=23, verbose=False)


def batches(loader):
    return [(x.copy(), y.copy()) for x, y in loader]


def test_train_batches_shapes_and_length(ds):
    loader = BatchLoader(ds, "train", batch_size=16, crop_size=10, rng=np.random.default_rng(0))
    assert len(loader) == 3  # 50 // 16, the last partial batch dropped
    out = batches(loader)
    assert len(out) == 3
    for x, y in out:
        assert x.shape == (16, 3, 10, 10) and x.dtype == np.float32
        assert y.shape == (16,) and y.dtype == np.int64
    seen = np.concatenate([y for _, y in out])
    assert len(seen) == 48


def test_val_is_centre_crop_in_order_and_keeps_the_tail(ds):
    loader = BatchLoader(ds, "val", batch_size=10, crop_size=10, train=False, scale=0.5)
    out = batches(loader)
    assert len(loader) == 3 and [len(y) for _, y in out] == [10, 10, 3]
    x = np.concatenate([b[0] for b in out])
    y = np.concatenate([b[1] for b in out])
    np.testing.assert_array_equal(y, ds.val_labels)
    o = (14 - 10) // 2
    ref = np.asarray(ds.val_images, dtype=np.float32).transpose(0, 3, 1, 2) - ds.mean_image
    ref = 0.5 * ref[:, :, o:o + 10, o:o + 10]
    np.testing.assert_allclose(x, ref, rtol=1e-5, atol=1e-4)
    np.testing.assert_array_equal(batches(loader)[0][0], out[0][0])  # no randomness


def test_each_train_sample_is_a_flipped_or_plain_window_plus_a_colour_shift(ds):
    loader = BatchLoader(ds, "train", batch_size=50, crop_size=9, shuffle=False,
                         rng=np.random.default_rng(1), prefetch=False)
    (x, y), = batches(loader)
    np.testing.assert_array_equal(y, ds.train_labels)
    centred = np.asarray(ds.train_images, dtype=np.float32).transpose(0, 3, 1, 2) - ds.mean_image
    n_flipped = 0
    for k in range(50):
        best = None
        for yy in range(6):
            for xx in range(6):
                win = centred[k, :, yy:yy + 9, xx:xx + 9]
                for flipped, cand in ((False, win), (True, win[:, :, ::-1])):
                    diff = x[k] - cand  # should be one constant RGB shift
                    spread = np.abs(diff - diff.mean(axis=(1, 2), keepdims=True)).max()
                    if best is None or spread < best[0]:
                        best = (spread, flipped, diff.mean(axis=(1, 2)))
        assert best[0] < 1e-3  # some window, maybe mirrored, plus a per-image constant
        n_flipped += best[1]
        assert np.abs(best[2]).max() < 20  # a small colour shift
    assert 10 < n_flipped < 40


def test_augmentation_switches(ds):
    plain = BatchLoader(ds, "train", 50, 9, rng=np.random.default_rng(0), shuffle=False,
                        flip=False, random_crop=False, pca_color=False)
    val_like = BatchLoader(ds, "train", 50, 9, train=False)
    np.testing.assert_allclose(batches(plain)[0][0], batches(val_like)[0][0])


def test_same_rng_state_same_batches_with_and_without_prefetch(ds):
    def run(prefetch, seed=7):
        rng = np.random.default_rng(seed)
        return batches(BatchLoader(ds, "train", 8, 10, rng=rng, prefetch=prefetch))
    a, b, c = run(True), run(False), run(True, seed=8)
    for (xa, ya), (xb, yb) in zip(a, b, strict=True):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)
    assert not np.array_equal(a[0][0], c[0][0])


def test_restoring_the_rng_state_replays_an_epoch(ds):
    rng = np.random.default_rng(3)
    loader = BatchLoader(ds, "train", 8, 10, rng=rng)
    batches(loader)  # epoch 1
    state = rng.bit_generator.state
    epoch2 = batches(loader)
    epoch3 = batches(loader)
    assert not np.array_equal(epoch2[0][0], epoch3[0][0])  # epochs differ
    rng.bit_generator.state = state
    again = batches(loader)
    for (xa, ya), (xb, yb) in zip(epoch2, again, strict=True):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)


def test_breaking_out_early_and_iterating_again(ds):
    loader = BatchLoader(ds, "train", 8, 10, rng=np.random.default_rng(0))
    for _ in loader:
        break
    assert len(batches(loader)) == len(loader)


def test_mean_subtracted_train_batches_are_centred(ds):
    loader = BatchLoader(ds, "train", 50, 14, rng=np.random.default_rng(0), flip=False,
                         pca_color=False)
    (x, _), = batches(loader)
    assert abs(float(x.mean())) < 1e-3


def test_bad_loader_arguments(ds):
    with pytest.raises(UserError, match="crop size 15"):
        BatchLoader(ds, "train", 8, 15, rng=np.random.default_rng(0))
    with pytest.raises(UserError, match="batch size 64"):
        BatchLoader(ds, "train", 64, 10, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="rng"):
        BatchLoader(ds, "train", 8, 10)
