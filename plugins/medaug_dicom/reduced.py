"""JPEG-compressed DICOM frames decoded by Pillow (libjpeg-turbo), reduced where it is safe.

An encapsulated JPEG Baseline / Extended frame is a complete JPEG stream, so Pillow
decodes it as it is stored, several times faster than pydicom's handler
(``pylibjpeg-libjpeg``) and, with DCT scaling (``draft``), at 1/2, 1/4 or 1/8 of its
size without ever holding the full frame. Which way a frame goes (:func:`route`):

``draft``
    The display mapping is fixed by the file or the options (a VOI LUT, a window,
    ``window="bits"``, or ``"auto"`` on 8-bit data without either, which means
    ``bits``: :func:`display_window`): the frame is decoded at the smallest DCT scale
    whose size is still at least the working size and the mapping is applied to that
    small image.
``jpeg-full``
    The mapping depends on the frame's values (min-max scaling: ``window="minmax"``):
    a reduced decode smooths the extremes away, so the frame is decoded in full, its
    extremes taken, and it is shrunk before the (affine, hence commuting) min-max
    mapping is applied.
``direct``
    A ``draft`` frame whose stored values are its display values (8-bit unsigned, no
    rescale, no Modality LUT, no VOI LUT or window: the RSNA sample) under ``"auto"`` or
    ``"bits"``: the scan records the file offset of its pixel data
    (:func:`direct_meta`), and the decode reads the JPEG stream from there without
    parsing the file with pydicom again, decodes it at the reduced DCT scale (OpenCV's
    libjpeg-turbo, about 9% faster than Pillow's, to the same values; Pillow's where
    OpenCV declines) and resizes it as 8-bit values (:func:`decode_direct`; within one
    grey level of ``draft``).
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
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast

import numpy as np
from PIL import Image
from pydicom import Dataset
from pydicom.dataelem import RawDataElement
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


def has_file_window(ds: Dataset) -> bool:
    """Whether the file holds its own display mapping (a VOI LUT or a window)."""
    has_voi = "VOILUTSequence" in ds and len(ds.VOILUTSequence) > 0
    return has_voi or ("WindowCenter" in ds and "WindowWidth" in ds)


def display_window(ds: Dataset, window: str) -> str:
    """The mapping a frame of ``ds`` gets under the reader option ``window``: the option
    itself, except that ``auto`` on data of at most 8 bits without a VOI LUT or window
    in the file is ``bits`` (the stored values as they are, as ``pixel_array`` and any
    PNG export show them). Deeper data keeps ``auto``'s min-max scaling."""
    if window != "auto" or has_file_window(ds):
        return window
    bits = int(ds.get("BitsStored", ds.get("BitsAllocated", 16)) or 16)
    return "bits" if bits <= 8 else window


def has_fixed_mapping(ds: Dataset, window: str) -> bool:
    """True when the display mapping does not depend on the frame's values."""
    window = display_window(ds, window)
    if window == "bits":
        return True
    return window == "auto" and has_file_window(ds)


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
        return decode_stream(frame, (int(ds.Columns), int(ds.Rows)), how, image_size)
    except Exception:  # any stream Pillow does not take: pydicom decides, as before
        return None


def decode_stream(
    frame: bytes, size: tuple[int, int], how: How, image_size: int
) -> JpegFrame | None:
    """One JPEG stream of a frame of ``size`` (Columns, Rows) decoded by Pillow along
    route ``how``; ``None`` when Pillow cannot give it as pydicom would."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(frame), formats=("JPEG",)) as im:
                if im.mode != "L" or im.size != size:
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


# -- the direct route: display-ready 8-bit frames, no pydicom at decode time ----------------

#: ``meta`` key of a record whose stored values are its display values (see
#: :func:`direct_meta`): the photometric interpretation, for the inversion
DIRECT = "direct"
#: ``meta`` key: the file offset of the encapsulated pixel data of such a record
PIXEL_OFFSET = "pixel_offset"


def _identity_modality(ds: Dataset) -> bool:
    if "ModalityLUTSequence" in ds:
        return False
    slope = float(ds.get("RescaleSlope", 1) or 1)
    intercept = float(ds.get("RescaleIntercept", 0) or 0)
    return slope == 1.0 and intercept == 0.0


def direct_meta(ds: Dataset, frames: int) -> dict[str, str | int]:
    """What the scan records so that a frame can be decoded without reading the file with
    pydicom again: for a single 8-bit unsigned grayscale JPEG Baseline/Extended frame with
    no rescale, no Modality LUT, no VOI LUT and no window (``window="auto"`` and
    ``"bits"`` then show the stored values as they are), its photometric interpretation
    and the file offset of its encapsulated pixel data; ``{}`` for any other file."""
    if route(ds, frames=frames, window="bits").how != "draft":
        return {}
    if not _identity_modality(ds) or has_file_window(ds):
        return {}
    offset = _pixel_data_offset(ds)
    if offset is None:
        return {}
    return {DIRECT: str(ds.PhotometricInterpretation).upper(), PIXEL_OFFSET: offset}


#: the length of an element whose value runs to a delimiter (encapsulated pixel data)
_UNDEFINED_LENGTH = 0xFFFFFFFF


def _pixel_data_offset(ds: Dataset) -> int | None:
    """The file offset of the value of ``ds``'s encapsulated (undefined-length) pixel
    data, whether the element is still raw (``value_tell``) or read (``file_tell``)."""
    element = ds.get_item("PixelData")
    if isinstance(element, RawDataElement):
        offset, undefined = element.value_tell, element.length == _UNDEFINED_LENGTH
    else:
        offset = getattr(element, "file_tell", None)
        undefined = bool(getattr(element, "is_undefined_length", False))
    return offset if isinstance(offset, int) and offset > 0 and undefined else None


#: OpenCV's reduced-size grayscale reads by DCT scale (its libjpeg-turbo decodes these
#: streams about 9% faster than Pillow's, to the same values)
_OPENCV_SCALES = {
    8: "IMREAD_REDUCED_GRAYSCALE_8",
    4: "IMREAD_REDUCED_GRAYSCALE_4",
    2: "IMREAD_REDUCED_GRAYSCALE_2",
    1: "IMREAD_GRAYSCALE",
}


def _dct_scale(size: tuple[int, int], request: tuple[int, int]) -> int:
    """The DCT scale (8, 4, 2 or 1) ``draft`` takes for a ``size`` frame asked for
    ``request``: the largest whose reduced frame still covers the request."""
    fits = min(size[0] // request[0], size[1] // request[1])
    return next(scale for scale in (8, 4, 2, 1) if fits >= scale or scale == 1)


def _decode_reduced_opencv(
    stream: bytes, size: tuple[int, int], image_size: int
) -> np.ndarray | None:
    """The stored values of an 8-bit grayscale JPEG ``stream`` decoded by OpenCV at the
    DCT scale ``draft`` would take: the same array as :func:`decode_stream`'s ``draft``
    route. ``None`` for anything else (not grayscale, another size, a cut stream, the
    fill gray in the last pixel): the caller then asks Pillow, which also reads the
    header here (OpenCV would turn a colour stream grey)."""
    import cv2

    try:
        with Image.open(io.BytesIO(stream), formats=("JPEG",)) as im:
            if im.mode != "L" or im.size != size:
                return None
    except Exception:
        return None
    scale = _dct_scale(size, draft_request(*size, image_size))
    try:
        array = cv2.imdecode(np.frombuffer(stream, np.uint8), getattr(cv2, _OPENCV_SCALES[scale]))
    except cv2.error:
        return None
    expected = (-(-size[1] // scale), -(-size[0] // scale))
    if array is None or array.dtype != np.uint8 or array.shape != expected:
        return None
    return None if array[-1, -1] == FILL else array


def decode_direct(path: Path, meta: Mapping[str, object], image_size: int) -> np.ndarray | None:
    """The ``(image_size, image_size)`` uint8 display image of a record :func:`direct_meta`
    described: the JPEG stream read at its offset, decoded at a reduced DCT scale,
    resized and (MONOCHROME1) inverted; the same pixels as the ``draft`` route with
    ``window="bits"`` to within one grey level. ``None`` when anything differs from the
    scan (the caller then takes the ``draft`` route)."""
    photometric, offset = meta.get(DIRECT), meta.get(PIXEL_OFFSET)
    if photometric not in ("MONOCHROME1", "MONOCHROME2") or not isinstance(offset, int):
        return None
    try:
        with open(path, "rb") as fh:
            fh.seek(offset)
            encapsulated = fh.read()
        stream = get_frame(encapsulated, 0, number_of_frames=1)
        size = (int(cast(int, meta["width"])), int(cast(int, meta["height"])))
    except Exception:
        return None
    stored = _decode_reduced_opencv(stream, size, image_size)
    if stored is None:
        decoded = decode_stream(stream, size, "draft", image_size)
        if decoded is None:
            return None
        stored = decoded.stored
    small = np.asarray(fit_square(Image.fromarray(stored), image_size))
    return 255 - small if photometric == "MONOCHROME1" else small


__all__ = [
    "DIRECT",
    "PILLOW_JPEG_SYNTAXES",
    "PIXEL_OFFSET",
    "How",
    "JpegFrame",
    "Route",
    "decode_direct",
    "decode_jpeg",
    "decode_stream",
    "direct_meta",
    "display_window",
    "draft_request",
    "has_file_window",
    "has_fixed_mapping",
    "route",
]
