"""Pillow decoding for the folder reader: header probes and the pixel pipeline.

Colour handling is explicit: palette and CMYK/YCbCr/LAB images become RGB; alpha is
composited onto black (the background of a radiograph); an RGB image whose channels
are equal is grayscale. 16-bit images keep their range (stored as ``uint16``);
32-bit integer and float images are min-max scaled to 16 bits. EXIF orientation is
applied. JPEGs are decoded at a reduced DCT scale (``draft``: the smallest scale whose
size is still at least the working size), and checked for image data that ends early.
A frame over the decoded-pixel cap (:func:`medaug.data.imaging.resolve_max_pixels`) is
refused before its pixels are read: during the scan from the header (for a JPEG, at its
smallest scale, 1/8), and again when decoding at the scale actually used.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps

from medaug.data.imaging import (
    DEFAULT_MAX_PIXELS,
    fit_square,
    fit_square_float,
    is_gray,
    pixel_cap_problem,
    quantize,
    to_chw,
)
from medaug.errors import MedaugError
from medaug_folder.jpeg_check import incomplete_jpeg

#: suffix -> Pillow formats a file with that suffix may legitimately have
IMAGE_SUFFIXES: dict[str, tuple[str, ...]] = {
    ".png": ("PNG",),
    ".jpg": ("JPEG", "MPO"),
    ".jpeg": ("JPEG", "MPO"),
    ".jpe": ("JPEG", "MPO"),
    ".bmp": ("BMP", "DIB"),
    ".tif": ("TIFF",),
    ".tiff": ("TIFF",),
    ".gif": ("GIF",),
    ".webp": ("WEBP",),
}
SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N"})
_EXIF_ORIENTATION = 0x0112
#: the smallest scale a JPEG can be decoded at (libjpeg's 1/8 DCT scaling)
JPEG_MIN_SCALE = 8


@contextmanager
def _own_size_limit() -> Iterator[None]:
    """Pillow's decompression-bomb warning is silenced: medaug's pixel cap decides
    (Pillow's hard limit, twice its warning size, still applies)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        yield


def _trailer_problem(path: Path, fmt: str) -> str | None:
    """Detect a truncated JPEG/PNG from its last bytes (no pixel decoding)."""
    if fmt not in ("JPEG", "PNG"):
        return None
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 1024))
            tail = fh.read().rstrip(b"\x00")
    except OSError as exc:
        return f"cannot read file ({exc.strerror or exc})"
    if fmt == "JPEG" and b"\xff\xd9" not in tail[-64:]:
        return "truncated JPEG (no end-of-image marker)"
    if fmt == "PNG" and b"IEND" not in tail[-32:]:
        return "truncated PNG (no IEND chunk)"
    return None


def probe_image(path: Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> dict[str, Any] | str:
    """Header facts of an image file (format, size, mode, frames), or why it is unusable
    (including a frame over ``max_pixels`` even at the smallest decode scale)."""
    suffix = path.suffix.lower()
    try:
        with _own_size_limit(), Image.open(path) as im:
            fmt = im.format or ""
            info: dict[str, Any] = {
                "format": fmt,
                "width": im.size[0],
                "height": im.size[1],
                "mode": im.mode,
                "frames": int(getattr(im, "n_frames", 1) or 1),
                "bits": _bits(im.mode),
            }
    except Image.DecompressionBombError as exc:
        return f"image too large for Pillow's safety limit ({exc})"
    except Exception as exc:  # any malformed header: skip the file, never crash
        text = str(exc).split(" '")[0] if str(exc) else type(exc).__name__
        return f"corrupt or not an image ({text})"
    allowed = IMAGE_SUFFIXES.get(suffix, ())
    if allowed and fmt not in allowed:
        info["note"] = f"{suffix} file holds {fmt}"
    if info["width"] < 1 or info["height"] < 1:
        return "image has no pixels"
    problem = _smallest_decode_problem(fmt, info["width"], info["height"], max_pixels)
    problem = problem or _trailer_problem(path, fmt)
    return problem if problem else info


def _bits(mode: str) -> int:
    return 16 if mode in SIXTEEN_BIT_MODES or mode in ("I", "F") else 8


def _smallest_decode_problem(fmt: str, width: int, height: int, cap: int) -> str | None:
    if fmt == "JPEG":
        small = (math.ceil(width / JPEG_MIN_SCALE), math.ceil(height / JPEG_MIN_SCALE))
        note = f" (1/8 scale of {width}x{height}, the smallest JPEG decode)"
        return pixel_cap_problem(*small, cap, note=note)
    return pixel_cap_problem(width, height, cap)


def _draft(im: Image.Image, image_size: int) -> None:
    if im.format != "JPEG" or im.mode not in ("RGB", "L", "CMYK"):
        return
    w, h = im.size
    side = min(w, h)
    req = (math.ceil(image_size * w / side), math.ceil(image_size * h / side))
    im.draft(im.mode if im.mode in ("RGB", "L") else None, req)


def _flatten_alpha(im: Image.Image) -> Image.Image:
    """Composite an image with alpha onto black, explicitly."""
    base = "L" if im.mode in ("LA", "La") else "RGB"
    rgba = im.convert("LA" if base == "L" else "RGBA")
    background = Image.new(rgba.mode, rgba.size, 0)
    return Image.alpha_composite(background.convert("RGBA"), rgba.convert("RGBA")).convert(base)


def _normalise_mode(im: Image.Image) -> Image.Image:
    """Convert any Pillow mode to one of L, RGB, I;16 or F, explicitly."""
    mode = im.mode
    if mode in ("L", "RGB") or mode in SIXTEEN_BIT_MODES or mode == "F":
        return im
    if mode == "1":
        return im.convert("L")
    if mode == "P":
        has_alpha = "transparency" in im.info
        return _flatten_alpha(im.convert("RGBA")) if has_alpha else im.convert("RGB")
    if mode in ("PA", "RGBA", "RGBa", "LA", "La"):
        return _flatten_alpha(im.convert("RGBA") if mode == "PA" else im)
    if mode == "I":
        return im
    # CMYK, YCbCr, LAB, HSV, RGBX...
    return im.convert("RGB")


def decode_image(
    path: Path,
    *,
    frame: int,
    image_size: int,
    channels: int | None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> np.ndarray:
    """Decode one image (one frame) to ``(C, image_size, image_size)`` uint8/uint16.
    Raises :class:`MedaugError` for a frame over ``max_pixels`` at the decode scale and
    for a JPEG whose image data ends early."""
    with _own_size_limit(), Image.open(path) as source:
        if frame:
            source.seek(frame)
        full = source.size
        _draft(source, image_size)
        note = f" (reduced from {full[0]}x{full[1]})" if source.size != full else ""
        problem = pixel_cap_problem(*source.size, max_pixels, note=note)
        if problem:
            raise MedaugError(problem)
        orientation = (
            source.getexif().get(_EXIF_ORIENTATION, 1)
            if source.format in ("JPEG", "TIFF", "PNG", "WEBP", "MPO")
            else 1
        )
        source.load()
        if source.format == "JPEG":
            problem = incomplete_jpeg(path, source, lambda im: _draft(im, image_size))
            if problem:
                raise MedaugError(problem)
        im: Image.Image = source
        if orientation not in (1, None):
            im = ImageOps.exif_transpose(im)
        im = _normalise_mode(im)
        if im.mode == "RGB" and channels != 3:
            rgb = np.asarray(im)
            if is_gray(rgb):  # resize one plane instead of three
                im = Image.fromarray(np.ascontiguousarray(rgb[..., 0]))
        if im.mode in ("L", "RGB"):
            small = np.asarray(fit_square(im, image_size))
            return to_chw(small, channels)
        array = np.asarray(im)
    if im.mode in SIXTEEN_BIT_MODES:
        unit = array.astype(np.float32) / 65535.0
    else:  # "I" (int32) or "F": keep 16-bit PNGs decoded as "I" exact, min-max otherwise
        values = array.astype(np.float64)
        lo, hi = float(values.min()), float(values.max())
        if lo >= 0 and hi <= 65535 and im.mode == "I":
            unit = (values / 65535.0).astype(np.float32)
        else:
            unit = ((values - lo) / (hi - lo) if hi > lo else np.zeros_like(values)).astype(
                np.float32
            )
    small16 = quantize(fit_square_float(unit, image_size), 16)
    return to_chw(small16, channels)


__all__ = ["IMAGE_SUFFIXES", "decode_image", "probe_image"]
