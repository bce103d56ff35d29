"""One file of a balance output as a float image ``(C, H, W)`` in ``[0, 1]``, at its own size.

- PNG, JPEG, BMP, TIFF... (Pillow): 8-bit values are divided by 255, 16-bit (``I;16``) by
  65535; palette, alpha, CMYK and other modes become L or RGB (alpha is dropped, as
  ``ImageFolder``'s loader does); EXIF orientation is not applied (nor does ImageFolder).
- DICOM (pydicom), the first frame of a multi-frame file. Grayscale, as medaug's DICOM
  reader does when it trains generators: the Modality LUT or Rescale Slope/Intercept, then
  the VOI LUT or the first window (LINEAR, LINEAR_EXACT, SIGMOID), else the range
  BitsStored allows for data of at most 8 bits (the stored values as they are) and a
  min-max scaling of the frame for deeper data; MONOCHROME1 is inverted. The synthetic
  Secondary Captures medaug writes (``Manufacturer`` medaug, ``ConversionType`` SYN) read back as
  ``stored / (2**BitsStored - 1)``: exactly the generator's output at the written bit
  depth. RGB: ``stored / (2**BitsStored - 1)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from medaug.data.imaging import LUMA, fit_square_float
from medaug.errors import MedaugError

DICOM_SUFFIXES = frozenset({".dcm", ".dicom"})
_SIXTEEN_BIT = frozenset({"I;16", "I;16L", "I;16B", "I;16N"})


def unit_from_ints(values: np.ndarray, top: float) -> np.ndarray:
    """Integers ``0 .. top`` to float32 ``[0, 1]`` (the one division every path uses, so
    a file and the tensor it was written from compare bit for bit)."""
    return values.astype(np.float32) / np.float32(top)


def is_dicom(path: Path) -> bool:
    """A ``.dcm``/``.dicom`` suffix, or the ``DICM`` magic at byte 128."""
    if path.suffix.lower() in DICOM_SUFFIXES:
        return True
    try:
        with open(path, "rb") as fh:
            fh.seek(128)
            return fh.read(4) == b"DICM"
    except OSError:
        return False


def read_image(path: Path) -> np.ndarray:
    """``path`` as float32 ``(C, H, W)`` in ``[0, 1]``, C = 1 or 3; a :class:`MedaugError`
    names the file when it cannot be read."""
    try:
        return _read_dicom(path) if is_dicom(path) else _read_pillow(path)
    except MedaugError:
        raise
    except Exception as exc:
        raise MedaugError(f"cannot read {path}: {type(exc).__name__}: {exc}") from exc


def _read_pillow(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        mode = im.mode
        if mode in _SIXTEEN_BIT:
            return unit_from_ints(np.asarray(im, dtype=np.uint16), 65535)[None]
        if mode == "I":  # 16-bit files some Pillow versions open as 32-bit
            return unit_from_ints(np.clip(np.asarray(im), 0, 65535), 65535)[None]
        plain = im if mode in ("L", "RGB") else im.convert("L" if mode in ("1", "LA") else "RGB")
        arr = np.asarray(plain, dtype=np.uint8)
    unit = unit_from_ints(arr, 255)
    return unit[None] if unit.ndim == 2 else np.ascontiguousarray(unit.transpose(2, 0, 1))


def _read_dicom(path: Path) -> np.ndarray:
    from pydicom import dcmread

    ds = dcmread(path)
    try:
        stored = ds.pixel_array
    except Exception as exc:
        raise MedaugError(f"cannot decode the pixels of {path}: {exc}") from exc
    if int(ds.get("NumberOfFrames", 1) or 1) > 1:
        stored = stored[0]
    bits = int(ds.get("BitsStored", ds.get("BitsAllocated", 8)) or 8)
    if stored.ndim == 3:
        rgb = unit_from_ints(stored[..., :3], 2**bits - 1)
        return np.ascontiguousarray(rgb.transpose(2, 0, 1))
    return _gray_unit(stored, ds, bits)[None]


def _first(value: Any) -> float:
    if isinstance(value, str | bytes) or not hasattr(value, "__iter__"):
        return float(value)
    return float(next(iter(value)))


def _window(x: np.ndarray, center: float, width: float, function: str) -> np.ndarray:
    """A VOI window (PS3.3 C.11.2.1.2) mapping to ``[0, 1]``."""
    if function == "SIGMOID":
        return (1.0 / (1.0 + np.exp(-4.0 * (x - center) / max(width, 1e-6)))).astype(np.float32)
    if function == "LINEAR_EXACT":
        return (x - (center - width / 2.0)) / np.float32(max(width, 1e-6))
    return (x - (center - 0.5)) / np.float32(max(width - 1.0, 1e-6)) + np.float32(0.5)


def is_medaug_synthetic(ds: Any) -> bool:
    """A synthetic Secondary Capture written by medaug (its pixels are the generator's)."""
    return (
        str(ds.get("Manufacturer", "")) == "medaug" and str(ds.get("ConversionType", "")) == "SYN"
    )


def _stored_range(ds: Any, bits: int) -> tuple[float, float]:
    from pydicom.pixels import apply_modality_lut

    signed = int(ds.get("PixelRepresentation", 0) or 0) == 1
    ends = np.array([-(2 ** (bits - 1)), 2 ** (bits - 1) - 1] if signed else [0, 2**bits - 1])
    lo, hi = np.sort(apply_modality_lut(ends, ds).astype(np.float64))
    return float(lo), float(hi)


def _value_range(values: np.ndarray) -> tuple[float, float]:
    return float(np.min(values)), float(np.max(values))


def _gray_unit(stored: np.ndarray, ds: Any, bits: int) -> np.ndarray:
    from pydicom.pixels import apply_modality_lut, apply_voi_lut

    values = apply_modality_lut(stored, ds)
    if "VOILUTSequence" in ds and len(ds.VOILUTSequence):
        lut = apply_voi_lut(
            values.astype(np.int64) if values.dtype.kind == "f" else values, ds, prefer_lut=True
        )
        descriptor = ds.VOILUTSequence[0].LUTDescriptor
        unit = unit_from_ints(np.asarray(lut), 2 ** int(descriptor[2]) - 1)
    elif "WindowCenter" in ds and "WindowWidth" in ds:
        function = str(ds.get("VOILUTFunction", "LINEAR") or "LINEAR").upper()
        unit = _window(
            values.astype(np.float32), _first(ds.WindowCenter), _first(ds.WindowWidth), function
        )
    else:
        fixed = is_medaug_synthetic(ds) or bits <= 8  # as the reader's window="auto"
        lo, hi = _stored_range(ds, bits) if fixed else _value_range(values)
        unit = (values.astype(np.float32) - np.float32(lo)) / np.float32(max(hi - lo, 1e-6))
    unit = np.clip(unit, 0.0, 1.0).astype(np.float32, copy=False)
    if str(ds.get("PhotometricInterpretation", "")).upper() == "MONOCHROME1":
        unit = np.float32(1.0) - unit
    return unit


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
    "is_dicom",
    "is_medaug_synthetic",
    "read_image",
    "to_channels",
    "to_size",
    "unit_from_ints",
]
