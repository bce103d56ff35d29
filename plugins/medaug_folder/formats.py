"""The ``png`` file format: synthetic images of image-folder data are written as PNG with
their provenance in iTXt chunks, and output images (PNG, JPEG, BMP, TIFF...) are read
back with Pillow.

Reading: 8-bit values are divided by 255, 16-bit (``I;16``) by 65535; palette, alpha,
CMYK and other modes become L or RGB (alpha is dropped, as ``ImageFolder``'s loader
does); EXIF orientation is not applied (nor does ImageFolder).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

import numpy as np
from PIL import Image, PngImagePlugin

from medaug.atomic import atomic_path
from medaug.contracts.fileformat import FileFormat, Series
from medaug.data.imaging import unit_from_ints

#: what Pillow reads here (the folder reader's picture files)
PICTURE_SUFFIXES = frozenset(
    {".png", ".jpg", ".jpeg", ".jpe", ".bmp", ".tif", ".tiff", ".gif", ".webp"}
)
_SIXTEEN_BIT = frozenset({"I;16", "I;16L", "I;16B", "I;16N"})


def write_png(path: Path, pixels: np.ndarray, text: Mapping[str, str]) -> None:
    """Write ``pixels`` ``(C, H, W)`` (C = 1 or 3) as PNG with ``text`` as iTXt chunks."""
    if pixels.ndim != 3 or pixels.shape[0] not in (1, 3):
        raise ValueError(f"expected (1|3, H, W) pixels, got {pixels.shape}")
    if pixels.shape[0] == 1:
        plane = pixels[0]
        img = (
            Image.fromarray(plane.astype(np.uint16)).convert("I;16")
            if plane.dtype == np.uint16
            else Image.fromarray(plane, mode="L")
        )
    else:
        rgb = pixels.transpose(1, 2, 0)
        if rgb.dtype == np.uint16:  # PNG writers in Pillow keep RGB at 8 bits
            rgb = (rgb >> 8).astype(np.uint8)
        img = Image.fromarray(np.ascontiguousarray(rgb), mode="RGB")
    info = PngImagePlugin.PngInfo()
    for key, value in text.items():
        info.add_itxt(key, str(value))
    with atomic_path(path) as tmp:
        img.save(tmp, format="PNG", pnginfo=info)


def read_pillow(path: Path) -> np.ndarray:
    """An image Pillow opens, as float32 ``(C, H, W)`` in ``[0, 1]``."""
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


class PngFormat(FileFormat):
    """PNG out (provenance in iTXt chunks), any Pillow image in."""

    suffix: ClassVar[str] = ".png"

    def claims(self, path: Path) -> bool:
        return path.suffix.lower() in PICTURE_SUFFIXES

    def write(
        self,
        path: Path,
        pixels: np.ndarray,
        *,
        series: Series,
        instance_number: int,
        provenance: Mapping[str, str],
        bit_depth: int,
    ) -> None:
        write_png(path, pixels, provenance)

    def read_unit(self, path: Path) -> np.ndarray:
        return read_pillow(path)


__all__ = ["PICTURE_SUFFIXES", "PngFormat", "read_pillow", "write_png"]
