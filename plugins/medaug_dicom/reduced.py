"""JPEG-compressed DICOM frames decoded by Pillow (libjpeg-turbo), reduced where it is safe.

An encapsulated JPEG Baseline / Extended frame is a complete JPEG stream, so Pillow
decodes it as it is stored, several times faster than pydicom's handler
(``pylibjpeg-libjpeg``) and, with DCT scaling (``draft``), at 1/2, 1/4 or 1/8 of its
size without ever holding the full frame. Which way a frame goes (:func:`route`):

``draft``
    The display mapping is fixed by the file or the options (a VOI LUT, a window, or
    ``window="bits"``): the frame is decoded at the smallest DCT scale whose size is
    still at least the working size and the mapping is applied to that small image.
``jpeg-full``
    The mapping depends on the frame's values (min-max scaling: ``window="minmax"``,
    or ``"auto"`` when the file has no window): a reduced decode smooths the extremes
    away, so the frame is decoded in full, its extremes taken, and it is shrunk before
    the (affine, hence commuting) min-max mapping is applied.
``pydicom``
    Everything else, decoded in full by pydicom as before: other transfer syntaxes
    (JPEG 2000: pylibjpeg-openjpeg has no reduced decode, and Pillow's ``reduce``
    fails on odd sizes and returns 15-bit samples shifted to 16 bits), 12-bit JPEG,
    colour, signed or multi-frame data, a Modality LUT table in min-max mode, a frame
    Pillow cannot open or decode, and a frame whose last pixel is libjpeg's fill gray
    (the sign of a stream cut short, which pydicom's decoder judges as before).
"""

from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass
from typing import Literal, cast

import numpy as np
from PIL import Image
from pydicom import Dataset
from pydicom.encaps import get_frame

from medaug.data.imaging import fit_square

#: JPEG Baseline (Process 1) and JPEG Extended (Process 2 & 4): Pillow decodes their
#: 8-bit streams; 12-bit Extended streams go to pydicom
PILLOW_JPEG_SYNTAXES = frozenset({"1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51"})
#: the value libjpeg gives a block it has no data for (a stream cut short)
FILL = 128

How = Literal["draft", "jpeg-full", "pydicom"]


@dataclass(frozen=True)
class Route:
    """How one frame is decoded, and why."""

    how: How
    reason: str


def has_fixed_mapping(ds: Dataset, window: str) -> bool:
    """True when the display mapping does not depend on the frame's values."""
    if window == "bits":
        return True
    if window != "auto":
        return False
    has_voi = "VOILUTSequence" in ds and len(ds.VOILUTSequence) > 0
    return has_voi or ("WindowCenter" in ds and "WindowWidth" in ds)


def route(ds: Dataset, *, frames: int, window: str) -> Route:
    """Which decoder takes a frame of ``ds`` (its header, pixel data may be deferred)."""
    meta = getattr(ds, "file_meta", None)
    uid = str(getattr(meta, "TransferSyntaxUID", "") or "")
    if uid not in PILLOW_JPEG_SYNTAXES:
        return Route("pydicom", f"transfer syntax {uid or 'unknown'} is not JPEG Baseline/Extended")
    if frames != 1:
        return Route("pydicom", "multi-frame")
    photometric = str(ds.get("PhotometricInterpretation", "")).upper()
    if int(ds.get("SamplesPerPixel", 1) or 1) != 1 or photometric not in (
        "MONOCHROME1",
        "MONOCHROME2",
    ):
        return Route("pydicom", f"not grayscale ({photometric or 'no PhotometricInterpretation'})")
    bits = (int(ds.get("BitsAllocated", 0) or 0), int(ds.get("BitsStored", 0) or 0))
    if bits != (8, 8) or int(ds.get("PixelRepresentation", 0) or 0) != 0:
        return Route("pydicom", "not 8-bit unsigned")
    if has_fixed_mapping(ds, window):
        return Route("draft", "fixed display mapping: decoded at a reduced DCT scale")
    if "ModalityLUTSequence" in ds:
        return Route("pydicom", "min-max scaling after a Modality LUT table")
    return Route("jpeg-full", "min-max scaling needs the full frame's extremes")


def draft_request(width: int, height: int, image_size: int) -> tuple[int, int]:
    """The size to ask ``draft`` for: the centred square crop still covers
    ``image_size`` pixels on its short side."""
    side = min(width, height)
    return (math.ceil(image_size * width / side), math.ceil(image_size * height / side))


@dataclass(frozen=True)
class JpegFrame:
    """A frame decoded by Pillow: its stored values, reduced (``draft``: by DCT scaling;
    ``jpeg-full``: resized to the working size, float32) and, for ``jpeg-full``, the
    lowest and highest stored value of the whole frame."""

    stored: np.ndarray
    extremes: tuple[int, int] | None = None


def _fill_corner(im: Image.Image) -> bool:
    """libjpeg's fill gray in the last pixel: perhaps a cut stream (pydicom judges it)."""
    return im.getpixel((im.width - 1, im.height - 1)) == FILL


def decode_jpeg(ds: Dataset, how: How, image_size: int) -> JpegFrame | None:
    """``ds``'s frame decoded by Pillow along route ``how`` (``draft`` or
    ``jpeg-full``); ``None`` when Pillow cannot give the frame as pydicom would (the
    caller then decodes it with pydicom)."""
    if how not in ("draft", "jpeg-full"):
        return None
    try:
        frame = get_frame(ds.PixelData, 0, number_of_frames=1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(frame), formats=("JPEG",)) as im:
                if im.mode != "L" or im.size != (int(ds.Columns), int(ds.Rows)):
                    return None
                if how == "draft":
                    im.draft("L", draft_request(im.width, im.height, image_size))
                im.load()
                if _fill_corner(im):
                    return None
                if how == "draft":
                    return JpegFrame(np.asarray(im))
                lo, hi = cast(tuple[int, int], im.getextrema())
                small = fit_square(im.convert("F"), image_size)
                return JpegFrame(np.asarray(small, dtype=np.float32), (int(lo), int(hi)))
    except Exception:  # any stream Pillow does not take: pydicom decides, as before
        return None


__all__ = [
    "PILLOW_JPEG_SYNTAXES",
    "How",
    "JpegFrame",
    "Route",
    "decode_jpeg",
    "draft_request",
    "has_fixed_mapping",
    "route",
]
