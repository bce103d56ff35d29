"""Contract checks for dataset reader plugins (:class:`medaug.contracts.reader.Reader`).

The scan / decode check writes a tiny class-folder dataset in a format the reader
declares in ``suffixes``: PNG, JPEG, BMP and TIFF through Pillow, DICOM through
pydicom; a plugin reading another format passes its own writer
(``reader_checks(name, writers={".nii": write_nifti})``).
"""

from __future__ import annotations

import tempfile
import unittest
from collections.abc import Callable, Iterator, Mapping
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from medaug.contracts.reader import Reader
from medaug.errors import MedaugError
from medaug.plugins import create_reader
from medaug.testing.check import Check, expect, expect_raises
from medaug.testing.files import tree_hash, write_dicom_level, write_image

#: writes a flat grayscale file of brightness ``level`` (0-255) at ``path``
Writer = Callable[[Path, int], object]

WRITERS: dict[str, Writer] = {
    ".png": write_image,
    ".jpg": write_image,
    ".jpeg": write_image,
    ".bmp": write_image,
    ".tif": write_image,
    ".tiff": write_image,
    ".dcm": write_dicom_level,
}

ReaderCheck = Callable[[str, Mapping[str, Any], Mapping[str, Writer]], None]


def check_is_a_reader_and_rejects_missing_roots(
    name: str, options: Mapping[str, Any], writers: Mapping[str, Writer]
) -> None:
    """Tokens are non-empty strings, ``can_read`` is in [0, 1], and scanning a missing
    folder is a :class:`MedaugError`."""
    reader = create_reader(name, **options)
    for token in ("cache_token", "scan_token"):
        value = getattr(reader, token)()
        expect(isinstance(value, str) and value, f"{token}() returned {value!r}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        score = type(reader).can_read(root, **options)
        expect(0.0 <= score <= 1.0, f"can_read returned {score}, expected [0, 1]")
        expect_raises(MedaugError, lambda: reader.scan(root / "missing"), "scan(missing root)")


def _writable_suffix(reader: Reader, writers: Mapping[str, Writer]) -> str | None:
    return next((s for s in sorted(type(reader).suffixes) if s in writers), None)


def check_scans_and_decodes_class_folders(
    name: str, options: Mapping[str, Any], writers: Mapping[str, Writer]
) -> None:
    """Class folders of two images each scan to labelled records (a stray text file is
    not one), the same way twice; records decode to ``(C, 8, 8)`` ``uint8``/``uint16``
    for ``channels`` 1, 3 and ``None`` (grayscale: 1); the dataset is never written."""
    reader = create_reader(name, **options)
    suffix = _writable_suffix(reader, writers)
    if suffix is None:
        raise unittest.SkipTest(
            f"reader {name!r} declares no suffix with a writer ({sorted(type(reader).suffixes)})"
        )
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "data"
        for level, cls in ((40, "A"), (200, "B")):
            (root / cls).mkdir(parents=True)
            for i in range(2):
                writers[suffix](root / cls / f"{cls.lower()}{i}{suffix}", level)
        (root / "A" / "notes.txt").write_text("not an image")
        before = tree_hash(root)

        scan = reader.scan(root)
        labels = sorted(r.label for r in scan.records)
        expect(labels == ["A", "A", "B", "B"], f"scan found labels {labels}")
        expect(
            all(r.path.is_file() and r.patient_id for r in scan.records),
            "records need an existing path and a patient id",
        )
        again = reader.scan(root)
        expect(
            sorted(map(repr, again.records)) == sorted(map(repr, scan.records)),
            "scanning twice gives other records",
        )
        for record in scan.records:
            for channels, depth in ((1, 1), (3, 3), (None, 1)):
                pixels = reader.decode(record, image_size=8, channels=channels)
                expect(
                    isinstance(pixels, np.ndarray) and pixels.shape == (depth, 8, 8),
                    f"decode(channels={channels}) gave shape {getattr(pixels, 'shape', None)}, "
                    f"expected ({depth}, 8, 8)",
                )
                expect(
                    pixels.dtype in (np.uint8, np.uint16),
                    f"decode gave dtype {pixels.dtype}, expected uint8 or uint16",
                )
        expect(tree_hash(root) == before, "the reader wrote into the dataset")


CHECKS: tuple[ReaderCheck, ...] = (
    check_is_a_reader_and_rejects_missing_roots,
    check_scans_and_decodes_class_folders,
)


def reader_checks(
    name: str, *, writers: Mapping[str, Writer] | None = None, **options: Any
) -> Iterator[Check]:
    """The reader contract checks for ``name``; ``options`` go to the factory and to
    ``can_read``; ``writers`` (suffix -> writer) add formats the checks can write."""
    all_writers = {**WRITERS, **(writers or {})}
    for func in CHECKS:
        check = func.__name__.removeprefix("check_")
        yield Check("reader", name, check, partial(func, name, dict(options), all_writers))
