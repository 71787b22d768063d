"""The paper's preprocessing and augmentation (sec. 2 and 4.1), one small function each.

Images are stored as uint8 ``(S, S, 3)`` (HWC, 0..255); the network sees float32 NCHW.

Preprocessing (sec. 2), done once when a data set is cached:
    ``to_rgb``                          any Pillow mode -> 8-bit RGB
    ``resize_shorter_and_center_crop``  shorter side -> S, then the central S x S patch
    ``compute_mean_image``              per-pixel, per-channel mean over the training split
    ``compute_pca``                     eigenvectors/values of the RGB covariance (sec. 4.1)

Augmentation (sec. 4.1), on every use of an image in training:
    ``random_crop`` / ``random_crop_offsets``  a random ``crop x crop`` window of the S x S image
    ``horizontal_flip``                         mirror left-right, with probability 0.5
    ``pca_color`` / ``pca_color_delta``         add ``P @ (alpha * lambda)``, alpha ~ N(0, 0.1)

Test-time views (sec. 4.1): ``center_crop`` and ``ten_crop`` (four corners + centre, and their
mirrors; the paper averages the softmax over the ten).

The batch versions used by :class:`alexnet_np.data.BatchLoader` live in ``crop_batch``; the
per-image functions here are the readable reference that the tests hold them to.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from PIL import Image, ImageOps

# The paper's standard deviation of the PCA colour coefficients alpha_i (sec. 4.1).
ORIENTATION = 0x0112  # the EXIF tag number of the orientation
PCA_ALPHA_STD = 0.1


def to_rgb(img):
    """Convert a Pillow image of any mode to 8-bit RGB.

    - 16-bit grayscale (``I;16*``) is scaled by 255/65535; 32-bit ``I`` likewise when its
      values exceed 255; float ``F`` is clipped to 0..255.
    - Images with transparency (RGBA, LA, PA, palette with a transparent colour) are
      composited over white, so transparent areas do not turn into arbitrary colours.
    - Palette, grayscale, CMYK, YCbCr... go through Pillow's own conversion.

    Returns a Pillow image in mode ``"RGB"``.
    """
    mode = img.mode
    if mode.startswith("I;16") or mode == "I" or mode == "F":
        arr = np.asarray(img).astype(np.float64)  # (H, W)
        if mode.startswith("I;16") or (mode == "I" and arr.max(initial=0) > 255):
            arr = arr * (255.0 / 65535.0)
        gray = np.clip(np.rint(arr), 0, 255).astype(np.uint8)
        return Image.fromarray(np.repeat(gray[:, :, None], 3, axis=2), "RGB")  # (H, W, 3)
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        mode == "P" and "transparency" in img.info
    )
    if has_alpha:
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    if mode != "RGB":
        return img.convert("RGB")
    return img


def resize_shorter_and_center_crop(img, size):
    """Rescale so the SHORTER side is ``size``, then keep the central ``size x size`` patch.

    Sec. 2: "we down-sampled the images to a fixed resolution of 256 x 256: given a rectangular
    image, we first rescaled the image such that the shorter side was of length 256, and then
    cropped out the central 256 x 256 patch". Done in one Pillow call: the central square of
    side ``min(W, H)`` of the source is resampled (bilinear, antialiased) to ``size x size``.
    An EXIF orientation tag (phones store portraits as rotated landscapes) is applied first.
    JPEGs are first decoded at a reduced scale when that still leaves at least ``size`` pixels
    (Pillow's ``draft``), which makes large photos several times faster to load.

    Parameters
    ----------
    img : PIL.Image.Image
        Any mode; converted with :func:`to_rgb`.
    size : int
        S, the output side (256 in the paper).

    Returns
    -------
    numpy.ndarray
        uint8 ``(size, size, 3)``.
    """
    if getattr(img, "format", None) == "JPEG" and img.mode in ("RGB", "L"):
        img.draft(img.mode, (size, size))  # decode at 1/2, 1/4 or 1/8 scale if still >= size
    if img.getexif().get(ORIENTATION, 1) != 1:  # a camera's "rotate me": do it, as viewers do
        img = ImageOps.exif_transpose(img)
    img = to_rgb(img)
    w, h = img.size
    side = min(w, h)
    left, top = (w - side) / 2, (h - side) / 2
    box = (left, top, left + side, top + side)
    out = img.resize((size, size), Image.Resampling.BILINEAR, box=box)
    return np.asarray(out, dtype=np.uint8)  # (S, S, 3)


def compute_mean_image(images, chunk=1024):
    """The mean image over a split: ``mean[c, y, x] = (1/N) sum_n images[n, y, x, c]``.

    Sec. 2: "subtracting the mean activity over the training set from each pixel". Accumulated
    in float64 in chunks, so a memory-mapped split is streamed, not loaded.

    images : uint8 ``(N, S, S, 3)``.  Returns float32 ``(3, S, S)`` in 0..255 units.
    """
    n = len(images)
    total = np.zeros(images.shape[1:], dtype=np.float64)  # (S, S, 3)
    for start in range(0, n, chunk):
        total += images[start:start + chunk].sum(axis=0, dtype=np.float64)
    mean = total / max(n, 1)
    return np.ascontiguousarray(mean.transpose(2, 0, 1), dtype=np.float32)  # (3, S, S)


def compute_pca(images, max_pixels=2_000_000, seed=0):
    """Eigen-decomposition of the 3x3 covariance of the training pixels' RGB values.

    Sec. 4.1: "we perform PCA on the set of RGB pixel values throughout the ImageNet training
    set". Pixel values are scaled to [0, 1]; with many pixels, a seeded random subset of whole
    images is used (about ``max_pixels`` pixels).

    images : uint8 ``(N, S, S, 3)``.

    Returns
    -------
    eigvals : float64 ``(3,)``, descending (variances, in [0, 1]^2 units).
    eigvecs : float64 ``(3, 3)``, column ``i`` is the eigenvector of ``eigvals[i]``.
    """
    n, s = len(images), images.shape[1]
    per_image = s * s
    k = max(1, min(n, max_pixels // per_image))
    idx = np.sort(np.random.default_rng(seed).choice(n, size=k, replace=False))
    pixels = np.asarray(images[idx], dtype=np.float64).reshape(-1, 3) / 255.0  # (k*S*S, 3)
    cov = np.cov(pixels, rowvar=False)  # (3, 3)
    eigvals, eigvecs = np.linalg.eigh(cov)  # ascending
    order = np.argsort(eigvals)[::-1]
    return np.maximum(eigvals[order], 0.0), eigvecs[:, order]


def random_crop_offsets(rng, n, image_size, crop_size):
    """Top-left corners of ``n`` random ``crop_size`` windows in an ``image_size`` square.

    Each of ``y`` and ``x`` is uniform on ``0 .. image_size - crop_size`` inclusive, so every
    window lies inside the image (sec. 4.1: 224 x 224 patches of the 256 x 256 images; 227 with
    this package's default). Returns two int64 arrays of shape ``(n,)``.
    """
    high = image_size - crop_size + 1
    ys = rng.integers(0, high, size=n)
    xs = rng.integers(0, high, size=n)
    return ys, xs


def random_crop(img_hwc, crop_size, rng):
    """One random ``crop_size x crop_size`` window of an HWC image (sec. 4.1).

    Returns ``(patch, (y, x))``: the ``(crop, crop, C)`` view and its top-left corner.
    """
    ys, xs = random_crop_offsets(rng, 1, img_hwc.shape[0], crop_size)
    y, x = int(ys[0]), int(xs[0])
    return img_hwc[y:y + crop_size, x:x + crop_size], (y, x)


def horizontal_flip(img, channels_first=True):
    """Mirror an image left-right: ``out[..., x] = img[..., W - 1 - x]`` (sec. 4.1).

    Works on CHW (``channels_first=True``, the last axis is x) and on HWC (the x axis is 1).
    """
    return img[..., ::-1] if channels_first else img[:, ::-1]


def pca_color_delta(rng, n, eigvals, eigvecs, std=PCA_ALPHA_STD):
    """The paper's PCA colour shifts for ``n`` images, in 0..255 pixel units.

    Sec. 4.1: to every RGB pixel ``I_xy`` of an image add::

        [p1, p2, p3] @ [a1 * l1, a2 * l2, a3 * l3]^T,     a_i ~ N(0, 0.1)

    with ``a`` drawn once per image per use. ``p_i``, ``l_i`` come from :func:`compute_pca`
    on pixels scaled to [0, 1], so the shift is computed in those units and multiplied by 255.

    We apply the text literally, with ``l_i`` (variances). Many re-implementations (fb.resnet,
    the "AlexNet lighting" in several PyTorch repos) use ``sqrt(l_i)`` (standard deviations)
    instead, which gives shifts about 5x larger for natural images; the paper's wording and its
    "intensity and colour of the illumination" are small changes, so we follow the text and say
    so here. Pass ``eigvals=np.sqrt(l)`` to get the other variant.

    Returns float64 ``(n, 3)``: one RGB shift per image.
    """
    alpha = rng.normal(0.0, std, size=(n, 3))  # (n, 3)
    delta01 = (alpha * eigvals[None, :]) @ eigvecs.T  # (n, 3): row k is P @ (alpha_k * l)
    return delta01 * 255.0


def pca_color(img_chw, eigvals, eigvecs, rng, std=PCA_ALPHA_STD):
    """Add one PCA colour shift (see :func:`pca_color_delta`) to every pixel of a CHW image.

    img_chw : float ``(3, H, W)`` in 0..255 units (raw or mean-subtracted: the shift is
    additive).  Returns a new float array of the same shape and dtype.
    """
    delta = pca_color_delta(rng, 1, eigvals, eigvecs, std)[0]  # (3,)
    return img_chw + delta.astype(img_chw.dtype)[:, None, None]


def center_crop(img_chw, size):
    """The central ``size x size`` window of a CHW image (single-view testing).

    Top-left corner ``((H - size) // 2, (W - size) // 2)``.  Returns a ``(C, size, size)`` view.
    """
    _, h, w = img_chw.shape
    if size > h or size > w:
        raise ValueError(f"center_crop: crop {size} is larger than the image ({h}x{w})")
    y, x = (h - size) // 2, (w - size) // 2
    return img_chw[:, y:y + size, x:x + size]


def ten_crop(img_chw, size):
    """The paper's ten test views (sec. 4.1): four corners, centre, and their mirrors.

    "At test time, the network makes a prediction by extracting five 224 x 224 patches (the
    four corner patches and the center patch) as well as their horizontal reflections (hence
    ten patches in all), and averaging the predictions made by the network's softmax layer on
    the ten patches."

    Order: top-left, top-right, bottom-left, bottom-right, centre, then the same five mirrored.

    img_chw : ``(C, H, W)``.  Returns ``(10, C, size, size)``, a new array.
    """
    c, h, w = img_chw.shape
    if size > h or size > w:
        raise ValueError(f"ten_crop: crop {size} is larger than the image ({h}x{w})")
    corners = [(0, 0), (0, w - size), (h - size, 0), (h - size, w - size),
               ((h - size) // 2, (w - size) // 2)]
    views = np.empty((10, c, size, size), dtype=img_chw.dtype)  # (10, C, size, size)
    for i, (y, x) in enumerate(corners):
        views[i] = img_chw[:, y:y + size, x:x + size]
        views[i + 5] = views[i, :, :, ::-1]
    return views


def crop_batch(images, mean_image, ys, xs, crop_size, flips=None, delta=None, scale=1.0):
    """Vectorised crop, mean subtraction, flip and colour shift for a batch (the loader's path).

    For each image ``k``::

        out[k] = scale * (crop(images[k] - mean, ys[k], xs[k]) [mirrored if flips[k]]
                          + delta[k])

    The mean image is subtracted at the SAME window as the pixels (sec. 2, 4.1). One fancy
    index into a sliding-window view gathers every crop at once, already in CHW order.

    Parameters
    ----------
    images : uint8 ``(B, S, S, 3)``.
    mean_image : float32 ``(3, S, S)``.
    ys, xs : int ``(B,)``, top-left corners.
    crop_size : int.
    flips : bool ``(B,)`` or None.
    delta : float ``(B, 3)`` or None, RGB shifts in 0..255 units.
    scale : float, multiplies after everything else.

    Returns
    -------
    float32 ``(B, 3, crop, crop)``.
    """
    b = len(images)
    c = crop_size
    rows = np.arange(b)
    win = sliding_window_view(images, (c, c), axis=(1, 2))  # (B, S-c+1, S-c+1, 3, c, c)
    out = win[rows, ys, xs].astype(np.float32)  # (B, 3, c, c)
    mean_win = sliding_window_view(mean_image, (c, c), axis=(1, 2))  # (3, S-c+1, S-c+1, c, c)
    out -= mean_win[:, ys, xs].transpose(1, 0, 2, 3)  # (B, 3, c, c)
    if flips is not None and flips.any():
        out[flips] = out[flips][:, :, :, ::-1]
    if delta is not None:
        out += delta.astype(np.float32)[:, :, None, None]
    if scale != 1.0:
        out *= np.float32(scale)
    return out
