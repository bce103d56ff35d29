"""Finding JPEGs whose image data stops early although the file ends with an end-of-image
marker (a download or copy cut short, then "repaired").

libjpeg fills the blocks it has no data for with zero coefficients, a flat mid-gray
(128), and says so only as a warning that Pillow does not pass on. Such a file decodes
without an error. To tell, the file is decoded a second time with extra entropy-coded
bytes slipped in before its end-of-image marker: a complete file has no block left to
decode, so the extra bytes are skipped and the pixels are identical; an incomplete file
decodes them into its missing blocks, so the pixels differ.

The second decode is done only for suspects: progressive files, colour models other
than gray and RGB, and files whose last (bottom-right) pixel is exactly the fill gray,
which every file cut before its last block is. It costs one more decode at the same
reduced (``draft``) scale.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

#: the value libjpeg gives a block it has no data for
FILL = 128
END_OF_IMAGE = b"\xff\xd9"
#: bytes that decode as entropy-coded data; no 0xFF, so they never look like a marker
_FILLER = bytes(b % 255 for b in hashlib.shake_128(b"medaug jpeg check").digest(512))

INCOMPLETE = "incomplete JPEG (its image data ends early: a cut file with an end-of-image marker)"


def _suspect(image: Image.Image) -> bool:
    if image.info.get("progressive") or image.info.get("progression"):
        return True
    if image.mode not in ("L", "RGB"):
        return True
    corner = image.getpixel((image.width - 1, image.height - 1))
    values = corner if isinstance(corner, tuple) else (corner,)
    return all(v == FILL for v in values)


def incomplete_jpeg(
    path: Path, decoded: Image.Image, prepare: Callable[[Image.Image], None]
) -> str | None:
    """Why the JPEG at ``path`` is incomplete, or ``None``. ``decoded`` is the loaded
    image (before any conversion) and ``prepare`` repeats what was done to it before
    loading (the same ``draft`` request), so both decodes are at the same scale."""
    if not _suspect(decoded):
        return None
    try:
        data = path.read_bytes()
    except OSError as exc:
        return f"cannot read file ({exc.strerror or exc})"
    end = data.rfind(END_OF_IMAGE)
    if end < 0:
        return None  # no marker: Pillow reports a truncated file itself
    try:
        with Image.open(io.BytesIO(data[:end] + _FILLER + data[end:])) as probe:
            prepare(probe)
            probe.load()
            again = np.asarray(probe)
    except Exception:
        return INCOMPLETE  # the extra bytes were decoded, and broke the stream
    return None if np.array_equal(np.asarray(decoded), again) else INCOMPLETE


__all__ = ["INCOMPLETE", "incomplete_jpeg"]
