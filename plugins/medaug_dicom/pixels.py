"""The DICOM pixel pipeline: stored values to a display-ready small image.

Order (PS3.3 C.11): Modality LUT or RescaleSlope/Intercept, then the VOI LUT or the
first WindowCenter/Width (LINEAR, LINEAR_EXACT or SIGMOID), else, for data of at most
8 bits, the range BitsStored allows (``window="bits"``: the stored values as they are),
and for deeper data a min-max scaling of the frame's values
(:func:`medaug_dicom.reduced.display_window`; ``window="minmax"`` and ``"bits"`` choose
one for every file). MONOCHROME1 is
inverted so bone is bright. Only the requested frame is decoded (pydicom reads one
frame of a multi-frame file); it is resized straight away. Output: uint8 when
BitsStored <= 8, else uint16.

8-bit grayscale JPEG frames are decoded by Pillow (:mod:`medaug_dicom.reduced`): at a
reduced DCT scale when the mapping is fixed (the LUTs then run on the small image),
in full with the resize before the min-max mapping otherwise. :func:`decode_frame_full`
is the plain pipeline (pydicom decodes the whole frame, the mapping runs on every
pixel, then the resize), used for everything else and as the reference in tests.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydicom import Dataset, dcmread
from pydicom.pixels import apply_modality_lut, apply_voi_lut, pixel_array

from medaug.data.imaging import fit_square_float, quantize, to_chw
from medaug.errors import MedaugError
from medaug_dicom.codecs import decoder_problem
from medaug_dicom.reduced import How, decode_jpeg, display_window, route

WINDOW_MODES = ("auto", "minmax", "bits")
#: ``decode`` reader option: ``reduced`` takes the Pillow/DCT-scaled path where it
#: applies, ``full`` always decodes whole frames with pydicom (the pipeline of earlier versions)
DECODE_MODES = ("reduced", "full")
_PRESENTATION_LUT_SHAPE = 0x20500020


@dataclass(frozen=True)
class FrameRef:
    """Frame ``index`` (from 0) of the ``count`` frames in the DICOM file ``path``."""

    path: Path
    index: int = 0
    count: int = 1


def _first(value: Any) -> float:
    if isinstance(value, list | tuple) or (
        hasattr(value, "__iter__") and not isinstance(value, str | bytes)
    ):
        value = next(iter(value))
    return float(value)


def window_unit(x: np.ndarray, center: float, width: float, function: str = "LINEAR") -> np.ndarray:
    """Apply a VOI window to ``x``, mapping to ``[0, 1]`` (PS3.3 C.11.2.1.2)."""
    x = x.astype(np.float32, copy=False)
    function = (function or "LINEAR").upper()
    if function == "SIGMOID":
        return (1.0 / (1.0 + np.exp(-4.0 * (x - center) / max(width, 1e-6)))).astype(np.float32)
    if function == "LINEAR_EXACT":
        return np.clip((x - (center - width / 2.0)) / max(width, 1e-6), 0.0, 1.0)
    width = max(width, 1.0)
    return np.clip((x - (center - 0.5)) / max(width - 1.0, 1e-6) + 0.5, 0.0, 1.0)


def _stored_range(ds: Dataset) -> tuple[float, float]:
    bits = int(ds.get("BitsStored", ds.get("BitsAllocated", 16)) or 16)
    if int(ds.get("PixelRepresentation", 0) or 0) == 1:
        return -(2.0 ** (bits - 1)), 2.0 ** (bits - 1) - 1
    return 0.0, 2.0**bits - 1


def gray_unit(
    stored: np.ndarray,
    ds: Dataset,
    window: str = "auto",
    *,
    extremes: tuple[float, float] | None = None,
) -> np.ndarray:
    """A single-sample frame's stored values to display values in ``[0, 1]``.

    ``extremes``: the lowest and highest Modality-LUT value of the whole frame, for a
    min-max scaling of ``stored`` when it is a resized copy of the frame."""
    window = display_window(ds, window)
    values = apply_modality_lut(stored, ds)
    if window == "auto" and "VOILUTSequence" in ds and len(ds.VOILUTSequence):
        lut = apply_voi_lut(
            values.astype(np.int64) if values.dtype.kind == "f" else values, ds, prefer_lut=True
        )
        descriptor = ds.VOILUTSequence[0].LUTDescriptor
        top = 2.0 ** int(descriptor[2]) - 1 if len(descriptor) > 2 else float(np.max(lut) or 1)
        unit = np.asarray(lut, dtype=np.float32) / max(top, 1.0)
    elif window == "auto" and "WindowCenter" in ds and "WindowWidth" in ds:
        unit = window_unit(
            values,
            _first(ds.WindowCenter),
            _first(ds.WindowWidth),
            str(ds.get("VOILUTFunction", "LINEAR")),
        )
    else:
        if window == "bits":
            lo_s, hi_s = _stored_range(ds)
            ends = apply_modality_lut(np.array([lo_s, hi_s]), ds).astype(np.float64)
            lo, hi = float(np.min(ends)), float(np.max(ends))
        elif extremes is not None:
            lo, hi = extremes
        else:
            lo, hi = float(np.min(values)), float(np.max(values))
        span = hi - lo
        unit = (
            ((values.astype(np.float32) - lo) / span)
            if span > 0
            else np.zeros(values.shape, np.float32)
        )
        unit = np.clip(unit, 0.0, 1.0)
    if str(ds.get("PhotometricInterpretation", "")).upper() == "MONOCHROME1":
        unit = 1.0 - unit
    return unit.astype(np.float32, copy=False)


def _modality_extremes(lowest: float, highest: float, ds: Dataset) -> tuple[float, float]:
    """The Modality-LUT values of a frame's lowest and highest stored values, in order
    (the rescale is affine, so they are the frame's extremes after it)."""
    ends = apply_modality_lut(np.array([lowest, highest], dtype=np.float64), ds)
    ends = np.asarray(ends, dtype=np.float64)
    return float(np.min(ends)), float(np.max(ends))


def decode_frame_pillow(
    ds: Dataset, *, how: How, image_size: int, channels: int | None, window: str = "auto"
) -> np.ndarray | None:
    """The ``draft`` or ``jpeg-full`` route of :mod:`medaug_dicom.reduced` for ``ds``;
    ``None`` when Pillow declines."""
    decoded = decode_jpeg(ds, how, image_size)
    if decoded is None:
        return None
    if decoded.extremes is None:  # draft: the mapping runs on the reduced frame
        small = fit_square_float(gray_unit(decoded.stored, ds, window), image_size)
    else:  # jpeg-full: already resized; min-max scaling by the full frame's extremes
        extremes = _modality_extremes(*decoded.extremes, ds)
        small = gray_unit(decoded.stored, ds, window, extremes=extremes)
    return to_chw(quantize(small, 8), channels)


def _read(path: Path) -> Dataset | None:
    """The whole file (the reader sends only JPEG files this way: their pixel data is
    small, and one read is quicker than a header read plus a deferred one)."""
    try:
        return dcmread(path)
    except Exception:  # unreadable here: the full decode reports it
        return None


def decode_frame(
    frame: FrameRef,
    *,
    image_size: int,
    channels: int | None,
    window: str = "auto",
    decode: str = "reduced",
) -> np.ndarray:
    """Decode ``frame`` to ``(C, image_size, image_size)``: through Pillow where
    :func:`medaug_dicom.reduced.route` allows it (``decode="reduced"``), else with
    :func:`decode_frame_full`."""
    if decode == "reduced" and frame.count == 1:
        ds = _read(frame.path)
        if ds is not None:
            how = route(ds, frames=frame.count, window=window).how
            out = decode_frame_pillow(
                ds, how=how, image_size=image_size, channels=channels, window=window
            )
            if out is not None:
                return out
    return decode_frame_full(frame, image_size=image_size, channels=channels, window=window)


def decode_frame_full(
    frame: FrameRef,
    *,
    image_size: int,
    channels: int | None,
    window: str = "auto",
) -> np.ndarray:
    """Decode ``frame`` to ``(C, image_size, image_size)`` with pydicom: the whole frame
    is decoded and mapped, then resized."""
    path = frame.path
    ds_out = Dataset()
    try:
        stored = pixel_array(
            str(path),
            index=frame.index if frame.count > 1 else None,
            ds_out=ds_out,
            specific_tags=[_PRESENTATION_LUT_SHAPE],
        )
    except (RuntimeError, NotImplementedError) as exc:
        uid = ""
        with contextlib.suppress(Exception):
            uid = str(dcmread(path, stop_before_pixels=True).file_meta.TransferSyntaxUID)
        problem = decoder_problem(uid) if uid else None
        raise MedaugError(problem or f"cannot decode pixel data ({exc})") from None
    if stored.ndim == 3 and stored.shape[-1] not in (3, 4):
        stored = stored[0]  # a multi-frame array where one frame was expected
    bits = int(ds_out.get("BitsStored", 8) or 8)
    if stored.ndim == 2:
        small = fit_square_float(gray_unit(stored, ds_out, window), image_size)
    else:
        top = 2.0 ** int(ds_out.get("BitsStored", 8) or 8) - 1
        small = fit_square_float(stored[..., :3].astype(np.float32) / top, image_size)
    return to_chw(quantize(small, bits), channels)
