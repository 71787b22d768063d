"""The embedded default data set: coloured shapes and textures on cluttered, noisy backgrounds.

Nothing is shipped or downloaded: every image is drawn from a seed with Pillow and NumPy, so a
fresh machine can train offline. Ten classes::

    disc  square  triangle  star  ring  cross  crescent  stripes  checker  dots

The first seven are solid shapes; the last three are squares that differ only in their texture
(so "square" vs "stripes" vs "checker" vs "dots" is about texture, not outline). Every image
draws its own position, size, rotation and colours, so colour is no cue to the class. The
background is a two-colour gradient with low-frequency blotches, crossed by up to two random
lines; Gaussian pixel noise of random strength goes on last. (``DISTRACTOR_PROB`` and
``BLOB_PROB`` can add small shapes of other classes and blobs to make the set harder.) A small
CNN learns the classes; a linear model on pixels does poorly (``docs/data.md``).

Image ``i`` of a split is a pure function of ``(seed, split, i, size)``: it has its own
``numpy.random.Generator`` seeded with ``[seed, split_code, i]``, so the sets are reproducible
whatever the counts, and train and val never share an image. Label ``i % 10`` keeps the classes
balanced.
"""

from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw

CLASSES = ["disc", "square", "triangle", "star", "ring", "cross", "crescent",
           "stripes", "checker", "dots"]

# Bump when the drawing changes, so cached synthetic sets are rebuilt.
GENERATOR_VERSION = 3

_SPLIT_CODES = {"train": 1, "val": 2}
_SOLID = ["disc", "square", "triangle", "star", "ring", "cross", "crescent"]
_SUPERSAMPLE = 2  # masks are drawn at 2x and box-filtered down, for soft edges

# How hard the set is (version 3; docs/training.md says why). Version 1 had 2-5 clutter
# items (half of them blobs), a distractor shape of another class half the time (radius
# 0.08-0.13), objects of radius 0.20-0.33, blotches of std 30 and noise std 3-18: the default
# run ended near 55% validation error after 10 epochs, and a 2-epoch look at version 2 (1-3
# items, a distractor 30% of the time) was hardly faster. Version 3 keeps the random colours,
# gradients, blotches, lines and noise, and drops the distractor shapes and blobs.
CLUTTER_ITEMS = (0, 3)  # lines over the background: integers in [0, 3)
BLOB_PROB = 0.0  # share of clutter items that are blobs (blobs look like discs and dots)
DISTRACTOR_PROB = 0.0  # how often a small shape of another class is drawn too
DISTRACTOR_RADIUS = (0.07, 0.10)  # its radius, as a fraction of S
OBJECT_RADIUS = (0.26, 0.36)  # the object's radius, as a fraction of S
BLOTCH_STD = 20.0  # low-frequency background blotches, grey levels
NOISE_STD = (2.0, 8.0)  # Gaussian pixel noise: std drawn per image in this range


def _regular_polygon(cx, cy, r, theta, n, inner=None):
    """Vertices of a regular n-gon (or an n-pointed star when ``inner`` radius is given)."""
    pts = []
    steps = 2 * n if inner is not None else n
    for k in range(steps):
        rad = r if (inner is None or k % 2 == 0) else inner
        a = theta + 2 * np.pi * k / steps
        pts.append((cx + rad * np.cos(a), cy + rad * np.sin(a)))
    return pts


def _rotated(points, cx, cy, theta):
    """Rotate ``(u, v)`` offsets by ``theta`` about the centre ``(cx, cy)``."""
    c, s = np.cos(theta), np.sin(theta)
    return [(cx + u * c - v * s, cy + u * s + v * c) for u, v in points]


def _draw_shape(draw, kind, cx, cy, r, theta):
    """Draw class ``kind`` (255 = inside, 0 = hole) on an "L" image with ImageDraw."""
    if kind == "disc":
        draw.polygon(_regular_polygon(cx, cy, r, theta, 40), fill=255)
    elif kind in ("square", "stripes", "checker", "dots"):
        draw.polygon(_regular_polygon(cx, cy, r * 1.2, theta + np.pi / 4, 4), fill=255)
    elif kind == "triangle":
        draw.polygon(_regular_polygon(cx, cy, r * 1.15, theta, 3), fill=255)
    elif kind == "star":
        draw.polygon(_regular_polygon(cx, cy, r * 1.15, theta, 5, inner=r * 0.45), fill=255)
    elif kind == "ring":
        draw.polygon(_regular_polygon(cx, cy, r, theta, 40), fill=255)
        draw.polygon(_regular_polygon(cx, cy, r * 0.55, theta, 40), fill=0)
    elif kind == "cross":
        w = 0.33 * r
        bar = [(-r, -w), (r, -w), (r, w), (-r, w)]
        draw.polygon(_rotated(bar, cx, cy, theta), fill=255)
        draw.polygon(_rotated(bar, cx, cy, theta + np.pi / 2), fill=255)
    elif kind == "crescent":
        draw.polygon(_regular_polygon(cx, cy, r, theta, 40), fill=255)
        ox, oy = cx + 0.5 * r * np.cos(theta), cy + 0.5 * r * np.sin(theta)
        draw.polygon(_regular_polygon(ox, oy, r * 0.85, theta, 40), fill=0)
    else:
        raise ValueError(f"unknown synthetic class {kind!r}")


def _shape_mask(kind, size, cx, cy, r, theta):
    """Soft mask in [0, 1], float32 ``(S, S)``, of one shape (drawn at 2x, box-filtered)."""
    k = _SUPERSAMPLE
    img = Image.new("L", (size * k, size * k), 0)
    _draw_shape(ImageDraw.Draw(img), kind, cx * k, cy * k, r * k, theta)
    img = img.resize((size, size), Image.Resampling.BOX)
    return np.asarray(img, dtype=np.float32) / 255.0  # (S, S)


@lru_cache(maxsize=8)
def _grids(size):
    """Pixel-centre coordinates ``(y, x)``, each ``(S, S)``, and the ``(S, 4)`` matrix that
    upsamples a 4-point signal to S points by linear interpolation (shared, read-only)."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5  # (S, S) each
    pos = np.clip((np.arange(size) + 0.5) * 4 / size - 0.5, 0, 3)  # (S,) in coarse units
    lo = np.minimum(np.floor(pos).astype(int), 2)
    frac = pos - lo
    up = np.zeros((size, 4), dtype=np.float32)  # (S, 4)
    up[np.arange(size), lo] = 1 - frac
    up[np.arange(size), lo + 1] += frac
    for a in (y, x, up):
        a.setflags(write=False)
    return y, x, up


def _texture(kind, size, cx, cy, theta, period):
    """Binary texture in the object's own rotated frame, float32 ``(S, S)`` in {0, 1}."""
    y, x, _ = _grids(size)
    u = (x - cx) * np.cos(theta) + (y - cy) * np.sin(theta)
    v = -(x - cx) * np.sin(theta) + (y - cy) * np.cos(theta)
    if kind == "stripes":
        t = np.floor(u / period) % 2
    elif kind == "checker":
        t = (np.floor(u / period) + np.floor(v / period)) % 2
    else:  # dots
        du = (u % period) - period / 2
        dv = (v % period) - period / 2
        t = (du * du + dv * dv) < (0.32 * period) ** 2
    return t.astype(np.float32)


def _random_color(rng, avoid=None, min_dist=90.0):
    """A random RGB colour (float ``(3,)``), at least ``min_dist`` from ``avoid`` if given."""
    for _ in range(20):
        c = rng.uniform(0, 255, size=3)
        if avoid is None or np.linalg.norm(c - avoid) >= min_dist:
            return c
    return 255.0 - avoid  # the complement is always far enough


def _background(rng, size):
    """Two-colour linear gradient at a random angle plus low-frequency blotches, float32."""
    c0, c1 = rng.uniform(0, 255, size=3), rng.uniform(0, 255, size=3)
    a = rng.uniform(0, 2 * np.pi)
    y, x, up = _grids(size)
    t = (x - size / 2) * np.cos(a) + (y - size / 2) * np.sin(a)  # (S, S)
    t = np.clip(0.5 + t / size, 0, 1)[:, :, None]  # (S, S, 1)
    img = (c0 * (1 - t) + c1 * t).astype(np.float32)  # (S, S, 3)
    coarse = rng.normal(0, BLOTCH_STD, size=(4, 4, 3)).astype(np.float32)  # (4, 4, 3)
    blot = up @ coarse.transpose(2, 0, 1) @ up.T  # bilinear upsampling, (3, S, S)
    img += blot.transpose(1, 2, 0)  # (S, S, 3)
    return img


def _paint(img, mask, color):
    """Alpha-blend a colour (``(3,)`` or ``(S, S, 3)``) into ``img`` where ``mask`` is set."""
    m = mask[:, :, None]
    img *= 1 - m
    img += m * color


def _clutter(rng, img, size):
    """Random lines (and, with ``BLOB_PROB``, blobs) in random colours, in place."""
    layer = Image.new("RGB", (size, size))
    alpha = Image.new("L", (size, size), 0)
    draw, draw_a = ImageDraw.Draw(layer), ImageDraw.Draw(alpha)
    for _ in range(int(rng.integers(*CLUTTER_ITEMS))):
        color = tuple(int(v) for v in rng.integers(0, 256, size=3))
        p = rng.uniform(-0.1, 1.1, size=4) * size
        if rng.random() >= BLOB_PROB:
            width = int(rng.integers(1, max(2, size // 20) + 1))
            draw.line(list(p), fill=color, width=width)
            draw_a.line(list(p), fill=255, width=width)
        else:
            cx, cy = p[0], p[1]
            rx, ry = rng.uniform(0.04, 0.12, size=2) * size
            box = [cx - rx, cy - ry, cx + rx, cy + ry]
            draw.ellipse(box, fill=color)
            draw_a.ellipse(box, fill=255)
    m = np.asarray(alpha, dtype=np.float32) / 255.0  # (S, S)
    _paint(img, m, np.asarray(layer, dtype=np.float32))


def draw_image(rng, label, size):
    """Draw one synthetic image of class ``CLASSES[label]``.

    Parameters
    ----------
    rng : numpy.random.Generator
        The image's own generator (all its randomness comes from here).
    label : int
        Class index, 0..9.
    size : int
        Side S of the square image.

    Returns
    -------
    numpy.ndarray
        uint8 ``(S, S, 3)``.
    """
    kind = CLASSES[label]
    img = _background(rng, size)  # (S, S, 3)
    _clutter(rng, img, size)

    # Sometimes, a small solid distractor of another class.
    if rng.random() < DISTRACTOR_PROB:
        other = _SOLID[int(rng.integers(len(_SOLID)))]
        if other != kind:
            dr = rng.uniform(*DISTRACTOR_RADIUS) * size
            dx, dy = rng.uniform(0.1, 0.9, size=2) * size
            m = _shape_mask(other, size, dx, dy, dr, rng.uniform(0, 2 * np.pi))
            _paint(img, m, rng.uniform(0, 255, size=3))

    # The object: random centre, radius, rotation; its colour stands out from the local
    # background, or the class would be invisible.
    r = rng.uniform(*OBJECT_RADIUS) * size
    cx, cy = rng.uniform(0.38, 0.62, size=2) * size
    theta = rng.uniform(0, 2 * np.pi)
    mask = _shape_mask(kind, size, cx, cy, r, theta)
    local = img[int(cy), int(cx)]
    color = _random_color(rng, avoid=local)
    if kind in ("stripes", "checker", "dots"):
        second = _random_color(rng, avoid=color, min_dist=110.0)
        period = rng.uniform(0.22, 0.32) * r * 2
        t = _texture(kind, size, cx, cy, theta, period)[:, :, None]  # (S, S, 1)
        color = color * t + second * (1 - t)  # (S, S, 3)
    _paint(img, mask, color)

    img += rng.normal(0, rng.uniform(*NOISE_STD), size=img.shape).astype(np.float32)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def generate_split(seed, split, count, size):
    """Draw a whole split. Returns ``(images uint8 (N, S, S, 3), labels int64 (N,))``.

    Image ``i`` uses ``numpy.random.default_rng([seed, split_code, i])`` and label ``i % 10``.
    """
    code = _SPLIT_CODES[split]
    images = np.empty((count, size, size, 3), dtype=np.uint8)  # (N, S, S, 3)
    labels = np.arange(count, dtype=np.int64) % len(CLASSES)
    for i in range(count):
        rng = np.random.default_rng([seed, code, i])
        images[i] = draw_image(rng, int(labels[i]), size)
    return images, labels


def sample_grid(path, size=72, rows=4, seed=0):
    """Save a PNG of ``rows`` training images per class (one class per column), drawn at
    ``size`` pixels: the picture in the README (``docs/images/synthetic.png``)."""
    cols = len(CLASSES)
    grid = np.zeros((rows * size, cols * size, 3), dtype=np.uint8)
    for c in range(cols):
        for r in range(rows):
            i = r * cols + c  # label i % 10 == c
            grid[r * size:(r + 1) * size, c * size:(c + 1) * size] = draw_image(
                np.random.default_rng([seed, _SPLIT_CODES["train"], i]), c, size)
    Image.fromarray(grid).save(path)
    return path

