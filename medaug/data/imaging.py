"""Pixel helpers shared by readers: square fitting, grayscale detection, quantisation,
and the cap on decoded pixels.

Every reader produces the same thing: a ``(C, H, W)`` ``uint8`` or ``uint16`` array at
the working size, with ``C`` = 1 for grayscale (an RGB image whose channels are equal
counts as grayscale) and 3 for colour.
"""

from __future__ import annotations

import os

import numpy as np
from PIL import Image

from medaug.errors import MedaugError

#: resampling used when shrinking to the working size (antialiased)
RESAMPLE = Image.Resampling.BILINEAR
#: ITU-R BT.601 luma weights, the same as Pillow's ``convert("L")``
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)

#: pixels of one decoded frame (after any reduced JPEG decode) above which an image is
#: skipped instead of decoded: 50 million, e.g. 7071 x 7071 (a 16-bit frame that size
#: takes 100 MB, and about 5 times that while it is converted and resized)
DEFAULT_MAX_PIXELS = 50_000_000
#: environment variable that changes the cap when no ``max_pixels`` option is given
MAX_PIXELS_ENV = "MEDAUG_MAX_PIXELS"


def resolve_max_pixels(value: int | str | None = None) -> int:
    """The decoded-pixel cap: ``value``, else ``$MEDAUG_MAX_PIXELS``, else
    :data:`DEFAULT_MAX_PIXELS`. Anything but a positive integer is a :class:`MedaugError`."""
    source = "max_pixels"
    if value is None:
        value = os.environ.get(MAX_PIXELS_ENV, "").strip() or None
        source = MAX_PIXELS_ENV
    if value is None:
        return DEFAULT_MAX_PIXELS
    try:
        cap = int(str(value).replace("_", ""))
    except ValueError:
        cap = 0
    if cap < 1:
        raise MedaugError(f"invalid {source} {value!r}: expected a positive whole number of pixels")
    return cap


def _count(n: int) -> str:
    if n < 1_000_000:
        return f"{n:,}"
    return f"{n / 1e6:,.1f}".removesuffix(".0") + " million"


def pixel_cap_problem(width: int, height: int, cap: int, *, note: str = "") -> str | None:
    """Why a ``width`` x ``height`` frame is not decoded under ``cap`` pixels, or ``None``.
    ``note`` says how the size was reached (e.g. a reduced JPEG decode)."""
    pixels = int(width) * int(height)
    if pixels <= cap:
        return None
    return (
        f"image too large to decode: {width}x{height}{note} is {_count(pixels)} pixels, "
        f"over the cap of {_count(cap)} (raise it with --max-pixels, the reader option "
        f"max_pixels or ${MAX_PIXELS_ENV})"
    )


def center_box(width: int, height: int) -> tuple[int, int, int, int]:
    """The centred square crop box of a ``width`` x ``height`` image."""
    side = min(width, height)
    left = (width - side) // 2
    top = (height - side) // 2
    return (left, top, left + side, top + side)


def fit_square(image: Image.Image, size: int) -> Image.Image:
    """Centre-crop ``image`` to a square and resize it to ``size`` x ``size``
    (antialiased; fast for large shrink factors via ``reducing_gap``)."""
    box = center_box(*image.size)
    if image.size == (size, size):
        return image
    return image.resize((size, size), RESAMPLE, box=box, reducing_gap=3.0)


def fit_square_float(array: np.ndarray, size: int) -> np.ndarray:
    """:func:`fit_square` for a float ``(H, W)`` or ``(H, W, 3)`` array; returns float32."""
    if array.ndim == 2:
        out = fit_square(Image.fromarray(np.ascontiguousarray(array, dtype=np.float32)), size)
        return np.asarray(out, dtype=np.float32)
    planes = [fit_square_float(array[..., c], size) for c in range(array.shape[-1])]
    return np.stack(planes, axis=-1)


def unit_from_ints(values: np.ndarray, top: float) -> np.ndarray:
    """Integers ``0 .. top`` to float32 ``[0, 1]`` (the one division every path uses, so
    a file and the tensor it was written from compare bit for bit)."""
    return values.astype(np.float32) / np.float32(top)


def quantize(unit: np.ndarray, bits: int) -> np.ndarray:
    """Values in ``[0, 1]`` to ``uint8`` (``bits`` <= 8) or ``uint16``, rounded."""
    if bits <= 8:
        return (np.clip(unit, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    return (np.clip(unit, 0.0, 1.0) * 65535.0 + 0.5).astype(np.uint16)


def is_gray(hwc: np.ndarray) -> bool:
    """True when a ``(H, W, 3)`` array has three equal channels."""
    return bool(
        np.array_equal(hwc[..., 0], hwc[..., 1]) and np.array_equal(hwc[..., 1], hwc[..., 2])
    )


def to_chw(array: np.ndarray, channels: int | None) -> np.ndarray:
    """``(H, W)`` or ``(H, W, 3)`` to ``(C, H, W)``: ``channels`` None keeps 1 for gray
    (or equal-channel RGB) and 3 for colour; 1 or 3 forces that count."""
    if array.ndim == 2:
        chw = array[None]
    elif channels != 3 and is_gray(array):
        chw = array[None, :, :, 0]
    else:
        chw = np.moveaxis(array, -1, 0)
    return np.ascontiguousarray(convert_channels(chw[None], channels)[0])


def convert_channels(images: np.ndarray, channels: int | None) -> np.ndarray:
    """Change the channel count of ``(N, C, H, W)`` images: gray to 3 by repetition,
    colour to 1 by BT.601 luma; ``None`` or the same count returns ``images`` itself."""
    have = images.shape[1]
    if channels is None or channels == have:
        return images
    if have == 1 and channels == 3:
        return np.repeat(images, 3, axis=1)
    if have == 3 and channels == 1:
        maxval = np.iinfo(images.dtype).max if images.dtype.kind == "u" else None
        luma = np.tensordot(LUMA, images.astype(np.float32), axes=([0], [1]))[:, None]
        luma = np.rint(luma)
        if maxval is not None:
            luma = np.clip(luma, 0, maxval)
        return luma.astype(images.dtype)
    raise ValueError(f"cannot convert {have} channels to {channels}")


#: rows converted at a time by :func:`channels_view` (bounds its float32 working memory)
CONVERT_ROWS = 4096


def channels_view(images: np.ndarray, channels: int) -> np.ndarray:
    """:func:`convert_channels` for a whole (memory-mapped) dataset without materialising
    it: the same count returns ``images`` itself, gray to 3 channels is a read-only
    broadcast view of it, colour to 1 channel (luma) is computed :data:`CONVERT_ROWS`
    rows at a time into a new in-memory ``(N, 1, H, W)`` array."""
    have = images.shape[1]
    if channels == have:
        return images
    if have == 1 and channels == 3:
        return np.broadcast_to(images, (images.shape[0], 3, *images.shape[2:]))
    if have == 3 and channels == 1:
        out = np.empty((images.shape[0], 1, *images.shape[2:]), dtype=images.dtype)
        for start in range(0, images.shape[0], CONVERT_ROWS):
            stop = start + CONVERT_ROWS
            out[start:stop] = convert_channels(np.asarray(images[start:stop]), 1)
        return out
    raise ValueError(f"cannot convert {have} channels to {channels}")


def widen(images: np.ndarray, bit_depth: int) -> np.ndarray:
    """``uint8`` images as ``uint16`` (x257, so 255 -> 65535) when ``bit_depth`` is 16."""
    if bit_depth == 16 and images.dtype == np.uint8:
        return images.astype(np.uint16) * np.uint16(257)
    return images
