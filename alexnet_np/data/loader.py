"""``BatchLoader``: float32 NCHW batches, augmented in training, prepared in a background thread.

Training mode (sec. 4.1), for each image of a batch::

    window  = random crop_size x crop_size window of the stored S x S image
    x       = image[window] - mean_image[window]            (sec. 2: mean subtraction)
    x       = mirror(x) with probability 0.5                 (sec. 4.1: reflections)
    x       = x + P @ (alpha * lambda), alpha ~ N(0, 0.1)    (sec. 4.1: PCA colour)
    x       = scale * x

Evaluation mode (``train=False``): the centre window, no flip, no colour shift, the images in
order, and the last partial batch kept.

Determinism: when iteration starts (``iter(loader)``), the epoch's permutation and one seed per
batch are drawn from the ``rng`` passed in, on the calling thread. Each batch then draws its
crops, flips and colour shifts from its own ``default_rng(seed)``, so the batches are a pure
function of the rng state at the start of the epoch, whatever the thread timing. Saving
``rng.bit_generator.state`` before an epoch and restoring it replays the epoch exactly.
"""

import queue
import threading

import numpy as np

from ..errors import UserError
from .augment import PCA_ALPHA_STD, crop_batch, pca_color_delta, random_crop_offsets

_DONE = object()


class BatchLoader:
    """Iterate over one split of a :class:`Dataset` in batches ``(x, y)``.

    Parameters
    ----------
    ds : Dataset
    split : {"train", "val"}
    batch_size : int
    crop_size : int
        Side of the network input (227 for the paper preset); at most ``ds.image_size``.
    train : bool
        Augment and shuffle (True) or evaluate (False: centre crop, in order, keep the tail).
    rng : numpy.random.Generator or None
        Source of all randomness; required when ``train`` is True.
    flip, random_crop, pca_color : bool
        Switch each augmentation off individually (training mode only).
    scale : float
        Multiplies the mean-subtracted pixels (1.0 = the paper's centred 0..255 values).
    drop_last : bool
        Drop the last partial batch (training mode only).
    shuffle : bool
        Visit the images in a fresh random order each epoch (training mode only).
    prefetch : bool
        Prepare the next batch in a background thread while the caller trains on this one.

    Yields
    ------
    x : float32 ``(B, 3, crop_size, crop_size)``
    y : int64 ``(B,)``
    """

    def __init__(self, ds, split="train", batch_size=32, crop_size=None, train=True, rng=None,
                 flip=True, random_crop=True, pca_color=True, scale=1.0, drop_last=True,
                 shuffle=True, prefetch=True):
        if split not in ("train", "val"):
            raise ValueError(f"BatchLoader: split must be 'train' or 'val', got {split!r}")
        self.images = ds.train_images if split == "train" else ds.val_images  # (N, S, S, 3)
        self.labels = ds.train_labels if split == "train" else ds.val_labels  # (N,)
        self.mean_image = np.asarray(ds.mean_image, dtype=np.float32)  # (3, S, S)
        self.eigvals = np.asarray(ds.pca_eigvals, dtype=np.float64)
        self.eigvecs = np.asarray(ds.pca_eigvecs, dtype=np.float64)
        size = self.images.shape[1]
        self.crop_size = size if crop_size is None else int(crop_size)
        if not 1 <= self.crop_size <= size:
            raise UserError(f"crop size {self.crop_size} does not fit the stored {size}x{size} "
                            f"images; use a crop of at most {size} or a larger image size")
        if batch_size < 1:
            raise UserError(f"batch size must be at least 1, got {batch_size}")
        self.batch_size = int(batch_size)
        self.train = bool(train)
        if self.train and rng is None:
            raise ValueError("BatchLoader: train=True needs rng, a numpy.random.Generator")
        self.rng = rng
        self.flip = self.train and flip
        self.random_crop = self.train and random_crop
        self.pca_color = self.train and pca_color
        self.shuffle = self.train and shuffle
        self.drop_last = self.train and drop_last
        self.scale = float(scale)
        self.prefetch = prefetch
        n = len(self.labels)
        if n == 0:
            raise UserError(f"the {split} split is empty")
        if self.drop_last and n < self.batch_size:
            raise UserError(f"batch size {self.batch_size} is larger than the {n} {split} "
                            f"images; use a smaller batch size")

    def __len__(self):
        n = len(self.labels)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _plan(self):
        """Draw the epoch's randomness on the calling thread: index lists and batch seeds."""
        n = len(self.labels)
        order = self.rng.permutation(n) if self.shuffle else np.arange(n)
        batches = [order[i * self.batch_size:(i + 1) * self.batch_size] for i in range(len(self))]
        if self.train:
            seeds = self.rng.integers(0, 2**63 - 1, size=len(batches))
        else:
            seeds = [None] * len(batches)
        return list(zip(batches, seeds, strict=True))

    def make_batch(self, idx, seed):
        """Build one batch from image indices ``idx`` and the batch seed (None: evaluation)."""
        b, s, c = len(idx), self.images.shape[1], self.crop_size
        # Read in ascending index order (kind to a memory map), then restore the batch order.
        order = np.argsort(idx, kind="stable")
        images = np.empty((b, s, s, 3), dtype=np.uint8)  # (B, S, S, 3)
        images[order] = self.images[idx[order]]
        labels = np.asarray(self.labels[idx], dtype=np.int64)
        brng = np.random.default_rng(seed) if seed is not None else None
        if self.random_crop:
            ys, xs = random_crop_offsets(brng, b, s, c)
        else:
            ys = xs = np.full(b, (s - c) // 2)
        flips = brng.random(b) < 0.5 if self.flip else None
        delta = (pca_color_delta(brng, b, self.eigvals, self.eigvecs, PCA_ALPHA_STD)
                 if self.pca_color else None)
        x = crop_batch(images, self.mean_image, ys, xs, c, flips, delta, self.scale)
        return x, labels

    def __iter__(self):
        return self.batches()

    def batches(self, start=0):
        """Iterate from batch ``start`` of the epoch (the randomness of the skipped batches is
        drawn all the same, so batch ``start`` is the one a full pass would give)."""
        plan = self._plan()[start:]
        if not self.prefetch:
            return (self.make_batch(idx, seed) for idx, seed in plan)
        return _Prefetcher(self, plan)


class _Prefetcher:
    """Iterator that builds batches in order in a background thread, one or two ahead."""

    def __init__(self, loader, plan, depth=2):
        self.queue = queue.Queue(maxsize=depth)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._work, args=(loader, plan), daemon=True)
        self.finished = False
        self.thread.start()

    def _put(self, item):
        while not self.stop.is_set():
            try:
                self.queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _work(self, loader, plan):
        try:
            for idx, seed in plan:
                if not self._put(loader.make_batch(idx, seed)):
                    return
        except BaseException as err:  # handed to the consumer, re-raised there
            self._put(err)
            return
        self._put(_DONE)

    def __iter__(self):
        return self

    def __next__(self):
        if self.finished:
            raise StopIteration
        item = self.queue.get()
        if item is _DONE:
            self.close()
            raise StopIteration
        if isinstance(item, BaseException):
            self.close()
            raise item
        return item

    def close(self):
        """Stop the worker (called at the end, on error, or when the iterator is dropped)."""
        self.finished = True
        self.stop.set()

    def __del__(self):
        self.stop.set()
