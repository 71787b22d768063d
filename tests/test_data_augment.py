"""Properties of each preprocessing / augmentation function (paper sec. 2 and 4.1)."""

import numpy as np
import pytest
from PIL import Image

from alexnet_np.data import (
    center_crop,
    compute_mean_image,
    compute_pca,
    crop_batch,
    horizontal_flip,
    pca_color,
    pca_color_delta,
    random_crop,
    random_crop_offsets,
    resize_shorter_and_center_crop,
    ten_crop,
    to_rgb,
)


def coord_image(c=3, h=9, w=9):
    """img[ch, y, x] = 1000 * ch + 100 * y + x: every pixel says where it came from."""
    ch, y, x = np.meshgrid(np.arange(c), np.arange(h), np.arange(w), indexing="ij")
    return (1000 * ch + 100 * y + x).astype(np.float32)  # (C, H, W)


def test_random_crop_offsets_stay_inside_and_cover_all_positions():
    rng = np.random.default_rng(0)
    ys, xs = random_crop_offsets(rng, 5000, image_size=12, crop_size=8)
    for v in (ys, xs):
        assert v.min() == 0 and v.max() == 4  # 0 .. S - crop inclusive, both ends reached
        assert set(np.unique(v)) == {0, 1, 2, 3, 4}


def test_random_crop_returns_the_window_at_its_corner():
    img = coord_image().transpose(1, 2, 0)  # (H, W, C)
    patch, (y, x) = random_crop(img, 4, np.random.default_rng(3))
    assert patch.shape == (4, 4, 3)
    assert 0 <= y <= 5 and 0 <= x <= 5
    np.testing.assert_array_equal(patch, img[y:y + 4, x:x + 4])
    assert patch[0, 0, 0] == 100 * y + x


def test_horizontal_flip_mirrors_and_is_an_involution():
    img = coord_image()
    out = horizontal_flip(img)
    w = img.shape[2]
    for x in range(w):
        np.testing.assert_array_equal(out[:, :, x], img[:, :, w - 1 - x])
    np.testing.assert_array_equal(horizontal_flip(out), img)
    hwc = img.transpose(1, 2, 0)
    np.testing.assert_array_equal(horizontal_flip(hwc, channels_first=False),
                                  out.transpose(1, 2, 0))


def test_center_crop_window():
    img = coord_image(h=10, w=9)
    out = center_crop(img, 4)
    assert out.shape == (3, 4, 4)
    assert out[0, 0, 0] == 100 * 3 + 2  # ((10 - 4) // 2, (9 - 4) // 2)
    with pytest.raises(ValueError):
        center_crop(img, 11)


def test_ten_crop_are_the_four_corners_centre_and_mirrors():
    img = coord_image(h=9, w=9)
    views = ten_crop(img, 5)
    assert views.shape == (10, 3, 5, 5)
    corners = [(0, 0), (0, 4), (4, 0), (4, 4), (2, 2)]
    for i, (y, x) in enumerate(corners):
        np.testing.assert_array_equal(views[i], img[:, y:y + 5, x:x + 5])
        np.testing.assert_array_equal(views[i + 5], img[:, y:y + 5, x:x + 5][:, :, ::-1])


def test_mean_image_is_per_pixel_per_channel_mean():
    images = np.random.default_rng(0).integers(0, 256, (7, 5, 5, 3), dtype=np.uint8)
    mean = compute_mean_image(images, chunk=3)
    assert mean.shape == (3, 5, 5) and mean.dtype == np.float32
    np.testing.assert_allclose(mean, images.mean(axis=0).transpose(2, 0, 1), rtol=1e-6)


def known_pca_images(rng):
    """Pixels with a known RGB covariance (in [0, 1] units) around mid-grey."""
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    lam = np.array([0.02, 0.005, 0.001])
    cov = q @ np.diag(lam) @ q.T
    pix = rng.multivariate_normal([0.5, 0.5, 0.5], cov, size=200 * 16 * 16)
    images = np.clip(np.rint(pix * 255), 0, 255).astype(np.uint8).reshape(200, 16, 16, 3)
    return images, q, lam


def test_compute_pca_recovers_the_principal_axes():
    images, q, lam = known_pca_images(np.random.default_rng(1))
    vals, vecs = compute_pca(images)
    assert vals.shape == (3,) and vecs.shape == (3, 3)
    assert np.all(np.diff(vals) <= 0)
    np.testing.assert_allclose(vals, lam, rtol=0.05, atol=1e-4)
    for i in range(3):
        assert abs(vecs[:, i] @ q[:, i]) > 0.99
    np.testing.assert_allclose(vecs.T @ vecs, np.eye(3), atol=1e-10)


def test_pca_color_shifts_every_pixel_along_the_axes_with_the_paper_scale():
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    lam = np.array([0.05, 0.01, 0.002])
    img = np.full((3, 4, 5), 100.0)
    out = pca_color(img, lam, q, np.random.default_rng(5))
    shift = out - img
    assert np.allclose(shift, shift[:, :1, :1])  # the same RGB shift for every pixel
    # Coordinates of the shift on the principal axes: alpha_i * lambda_i (x 255 for 0..255).
    deltas = pca_color_delta(np.random.default_rng(7), 20000, lam, q)  # (n, 3)
    coeffs = deltas @ q / 255.0  # (n, 3) = alpha * lambda
    alpha = coeffs / lam
    np.testing.assert_allclose(alpha.std(axis=0), 0.1, rtol=0.03)
    np.testing.assert_allclose(alpha.mean(axis=0), 0.0, atol=0.005)
    # Along the first axis only when the others have zero eigenvalue.
    d1 = pca_color_delta(np.random.default_rng(2), 50, np.array([0.05, 0, 0]), q)
    np.testing.assert_allclose(np.cross(d1, q[:, 0]), 0.0, atol=1e-9)


def test_crop_batch_matches_the_per_image_reference():
    rng = np.random.default_rng(0)
    b, s, c = 6, 10, 7
    images = rng.integers(0, 256, (b, s, s, 3), dtype=np.uint8)
    mean = rng.uniform(0, 255, (3, s, s)).astype(np.float32)
    ys, xs = random_crop_offsets(rng, b, s, c)
    flips = np.array([True, False, True, True, False, False])
    delta = rng.normal(0, 3, (b, 3))
    out = crop_batch(images, mean, ys, xs, c, flips, delta, scale=0.5)
    assert out.shape == (b, 3, c, c) and out.dtype == np.float32
    for k in range(b):
        y, x = ys[k], xs[k]
        ref = images[k].transpose(2, 0, 1).astype(np.float32)[:, y:y + c, x:x + c]
        ref = ref - mean[:, y:y + c, x:x + c]
        if flips[k]:
            ref = horizontal_flip(ref)
        ref = 0.5 * (ref + delta[k][:, None, None])
        np.testing.assert_allclose(out[k], ref, rtol=1e-5, atol=1e-4)


def test_resize_shorter_side_then_center_crop():
    # 60 wide, 20 high: left, middle and right thirds red, green, blue.
    arr = np.zeros((20, 60, 3), dtype=np.uint8)
    arr[:, :20, 0] = 255
    arr[:, 20:40, 1] = 255
    arr[:, 40:, 2] = 255
    out = resize_shorter_and_center_crop(Image.fromarray(arr), 10)
    assert out.shape == (10, 10, 3) and out.dtype == np.uint8
    # The middle third only (the filter may blend one edge column with its neighbours, just as
    # resizing the whole image and then cropping would).
    inner = out[:, 1:-1]
    assert np.all(inner[:, :, 1] == 255) and np.all(inner[:, :, [0, 2]] == 0)
    assert np.all(out[:, :, 1] > 200)
    tall = resize_shorter_and_center_crop(Image.fromarray(arr.transpose(1, 0, 2)), 10)
    assert np.all(tall[1:-1, :, 1] == 255)


@pytest.mark.parametrize("mode", ["L", "P", "RGBA", "LA", "CMYK", "I;16", "I", "F", "1"])
def test_every_mode_becomes_8bit_rgb(mode):
    gray = np.full((6, 8), 128, dtype=np.uint8)
    if mode == "I;16":
        img = Image.fromarray(np.full((6, 8), 65535, dtype=np.uint16))
        assert img.mode.startswith("I;16")
    elif mode == "I":
        img = Image.fromarray(np.full((6, 8), 32896, dtype=np.int32), "I")
    elif mode == "F":
        img = Image.fromarray(np.full((6, 8), 128.0, dtype=np.float32), "F")
    elif mode == "1":
        img = Image.fromarray(np.full((6, 8), 255, dtype=np.uint8), "L").convert("1")
    else:
        img = Image.fromarray(gray, "L").convert(mode)
    rgb = to_rgb(img)
    assert rgb.mode == "RGB" and rgb.size == (8, 6)
    out = resize_shorter_and_center_crop(img, 4)
    assert out.shape == (4, 4, 3) and out.dtype == np.uint8
    expected = {"I;16": 255, "1": 255}.get(mode, 128)
    assert abs(int(out[0, 0, 0]) - expected) <= 1


def test_transparent_pixels_become_white():
    rgba = np.zeros((4, 4, 4), dtype=np.uint8)  # black, fully transparent
    out = resize_shorter_and_center_crop(Image.fromarray(rgba, "RGBA"), 4)
    assert np.all(out == 255)
