"""One file of a balance output as a float image ``(C, H, W)`` in ``[0, 1]``, at its own
size, read by the file format that claims it: Pillow images by the folder plugin's
``png`` format (:mod:`medaug_folder.formats`), DICOM by the DICOM plugin's ``dicom``
format (:mod:`medaug_dicom.output`, which says how DICOM values are mapped); and the
channel and size conversions the datasets apply to it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from medaug.data.imaging import LUMA, fit_square_float, unit_from_ints
from medaug.errors import MedaugError
from medaug.plugins import format_of


def read_image(path: Path) -> np.ndarray:
    """``path`` as float32 ``(C, H, W)`` in ``[0, 1]``, C = 1 or 3, read by the file
    format that claims it (:func:`medaug.plugins.format_of`); a :class:`MedaugError`
    names the file when it cannot be read."""
    try:
        return format_of(path).read_unit(path)
    except MedaugError:
        raise
    except Exception as exc:
        raise MedaugError(f"cannot read {path}: {type(exc).__name__}: {exc}") from exc


def to_channels(image: np.ndarray, channels: int | None) -> np.ndarray:
    """``(C, H, W)`` float image with ``channels`` channels: gray to RGB by repetition, RGB
    to gray by ITU-R BT.601 luma (Pillow's ``convert("L")``); ``None`` keeps it."""
    have = image.shape[0]
    if channels is None or channels == have:
        return image
    if have == 1 and channels == 3:
        return np.repeat(image, 3, axis=0)
    if have == 3 and channels == 1:
        return np.tensordot(LUMA, image, axes=1)[None].astype(np.float32)
    raise MedaugError(f"cannot turn a {have}-channel image into {channels} channels")


def to_size(image: np.ndarray, image_size: int | None) -> np.ndarray:
    """Centre-crop to a square and resize to ``image_size`` (antialiased bilinear, the
    geometry of medaug's own readers); ``None`` keeps the size."""
    if image_size is None or image.shape[1:] == (image_size, image_size):
        return image
    if image.shape[0] == 1:
        return fit_square_float(image[0], image_size)[None]
    hwc = fit_square_float(np.ascontiguousarray(image.transpose(1, 2, 0)), image_size)
    return np.ascontiguousarray(hwc.transpose(2, 0, 1))


__all__ = [
    "read_image",
    "to_channels",
    "to_size",
    "unit_from_ints",
]
