"""JPEGs cut short and "repaired" with an end-of-image marker are skipped, complete ones
of every kind are read (issue 12.13)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from medaug_folder.jpeg_check import INCOMPLETE
from PIL import Image

from medaug.data import DataOptions, ImageDataset, load_dataset
from tests.hardening.corpus import base, cut_and_patched, encode, jpeg_bytes, texture, write

KINDS: dict[str, dict[str, Any]] = {
    "gray": {"mode": "L"},
    "rgb-420": {"mode": "RGB"},
    "rgb-444": {"mode": "RGB", "subsampling": 0},
    "progressive": {"mode": "RGB", "progressive": True},
    "optimized-tables": {"mode": "L", "optimize": True},
    "restart-markers": {"mode": "RGB", "restart_marker_blocks": 2},
    "cmyk": {"mode": "CMYK"},
}


def _load(root: Path, image_size: int = 16) -> ImageDataset:
    return load_dataset(root, image_size=image_size, progress=False, options=DataOptions(workers=1))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("image_size", [16, 64])
def test_cut_jpeg_with_end_marker_is_skipped(tmp_path: Path, kind: str, image_size: int) -> None:
    """Such a file decodes without an error, its missing part flat gray; it used to be
    accepted. At 16 px it is decoded reduced (draft), at 64 px in full."""
    root = base(tmp_path / "data")
    data = jpeg_bytes(80, **KINDS[kind])
    write(root / "a" / "complete.jpg", data)
    write(root / "a" / "patched.jpg", cut_and_patched(data))
    ds = _load(root, image_size)
    assert {s.path.name: s.reason for s in ds.skipped} == {"patched.jpg": INCOMPLETE}
    assert "complete.jpg" in {r.path.name for r in ds.records}


def test_complete_jpegs_that_look_suspect_are_kept(tmp_path: Path) -> None:
    """A bottom-right corner of exactly the fill gray only triggers the second decode;
    so do trailing bytes after the end marker: neither is a reason to skip."""
    root = base(tmp_path / "data")
    gray_corner = texture(64)
    gray_corner[-16:, -16:] = 128
    write(root / "a" / "corner.jpg", encode(Image.fromarray(gray_corner), "JPEG", quality=95))
    write(root / "a" / "trailing.jpg", jpeg_bytes(48) + b"\x00\x00 camera trailer")
    flat = Image.new("RGB", (40, 40), (128, 128, 128))
    write(root / "a" / "flat.jpg", encode(flat, "JPEG", progressive=True))
    ds = _load(root)
    assert ds.skipped == []
    assert np.all(ds.images[[r.path.name for r in ds.records].index("flat.jpg")] == 128)


def test_cut_in_the_last_blocks_is_found(tmp_path: Path) -> None:
    """Only the last few bytes missing: most of the image is there, the last blocks are
    not; the bytes check still tells."""
    root = base(tmp_path / "data")
    data = jpeg_bytes(64)
    write(root / "a" / "short.jpg", data[:-40] + b"\xff\xd9")
    assert {s.path.name: s.reason for s in _load(root, 64).skipped} == {"short.jpg": INCOMPLETE}
