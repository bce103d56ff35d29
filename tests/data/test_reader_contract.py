"""Contract tests run against every registered reader, first-party or third-party.

A new reader plugin is tested here automatically when it declares ``suffixes`` of a format
this module can write (PNG/JPEG/TIFF/BMP through Pillow, DICOM through pydicom)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import medaug
from medaug.contracts import Reader
from tests.conftest import tree_hash

from .conftest import write_dicom

NAMES = medaug.list_readers()


def _write_pillow(path: Path, level: int) -> None:
    Image.fromarray(np.full((20, 20), level, np.uint8), mode="L").save(path)


def _write_dicom(path: Path, level: int) -> None:
    write_dicom(path, np.full((20, 20), level * 16, np.uint16), patient_id=path.stem)


WRITERS: dict[str, Callable[[Path, int], None]] = {
    ".png": _write_pillow,
    ".jpg": _write_pillow,
    ".jpeg": _write_pillow,
    ".bmp": _write_pillow,
    ".tif": _write_pillow,
    ".tiff": _write_pillow,
    ".dcm": _write_dicom,
}


def _writable_suffix(reader: Reader) -> str | None:
    return next((s for s in sorted(type(reader).suffixes) if s in WRITERS), None)


@pytest.mark.parametrize("name", NAMES)
def test_reader_is_a_reader_and_rejects_missing_roots(name: str, tmp_path: Path) -> None:
    reader = medaug.create_reader(name)
    assert isinstance(reader, Reader)
    assert isinstance(reader.cache_token(), str) and reader.cache_token()
    score = type(reader).can_read(tmp_path)
    assert 0.0 <= score <= 1.0
    with pytest.raises(medaug.MedaugError):
        reader.scan(tmp_path / "missing")


@pytest.mark.parametrize("name", NAMES)
def test_reader_scans_and_decodes_class_folders(name: str, tmp_path: Path) -> None:
    reader = medaug.create_reader(name)
    suffix = _writable_suffix(reader)
    if suffix is None:
        pytest.skip(f"reader {name!r} declares no suffix this test can write")
    root = tmp_path / "data"
    for level, cls in ((40, "A"), (200, "B")):
        (root / cls).mkdir(parents=True)
        for i in range(2):
            WRITERS[suffix](root / cls / f"{cls.lower()}{i}{suffix}", level)
    (root / "A" / "notes.txt").write_text("not an image")
    before = tree_hash(root)

    scan = reader.scan(root)
    assert sorted(r.label for r in scan.records) == ["A", "A", "B", "B"]
    assert all(r.path.is_file() and r.patient_id for r in scan.records)
    for record in scan.records:
        pixels = reader.decode(record, image_size=8, channels=1)
        assert pixels.shape == (1, 8, 8)
        assert pixels.dtype in (np.uint8, np.uint16)
    assert tree_hash(root) == before  # readers never write into the dataset
