"""Preprocess one image file for ``predict``: the same path as the data sets, one view."""

import numpy as np
from PIL import Image

from ..errors import UserError
from ..fileio import open_regular
from .augment import center_crop, resize_shorter_and_center_crop


def preprocess_image(path_or_pil, image_size, crop_size, mean_image, scale=1.0):
    """Bring one image to the network's input: float32 ``(3, crop, crop)``.

    The training pipeline's evaluation path (sec. 2 and 4.1): shorter side to S and central
    S x S patch, subtract the training mean image, take the central ``crop x crop`` window,
    multiply by ``scale``. For the paper's ten views, pass the ``(3, S, S)`` result of
    ``crop_size=image_size`` to :func:`alexnet_np.data.ten_crop`.

    Parameters
    ----------
    path_or_pil : str, os.PathLike or PIL.Image.Image
    image_size : int
        S, the stored size the model's data set used.
    crop_size : int
        The network input side.
    mean_image : float32 ``(3, S, S)``
    scale : float

    Raises
    ------
    UserError
        If the file cannot be opened or decoded as an image, or the sizes do not match.
    """
    mean_image = np.asarray(mean_image, dtype=np.float32)
    if mean_image.shape != (3, image_size, image_size):
        raise UserError(f"mean image has shape {mean_image.shape}, expected "
                        f"(3, {image_size}, {image_size})")
    if crop_size > image_size:
        raise UserError(f"crop size {crop_size} is larger than the image size {image_size}")
    if isinstance(path_or_pil, Image.Image):
        hwc = resize_shorter_and_center_crop(path_or_pil, image_size)
    else:
        with open_regular(path_or_pil, "image file") as fh:  # not a FIFO: it would hang
            try:
                with Image.open(fh) as img:
                    hwc = resize_shorter_and_center_crop(img, image_size)  # (S, S, 3)
            except Exception as err:  # any decoder failure is the file's fault
                raise UserError(f"cannot read {path_or_pil} as an image ({err})") from None
    chw = hwc.transpose(2, 0, 1).astype(np.float32) - mean_image  # (3, S, S)
    out = center_crop(chw, crop_size) * np.float32(scale)  # (3, crop, crop)
    return np.ascontiguousarray(out, dtype=np.float32)
