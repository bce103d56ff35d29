"""The reader contract, checked for every registered reader, first-party or third-party.

The checks live in :mod:`medaug.testing`; a new reader is tested here automatically
when it declares ``suffixes`` of a format the checks can write (PNG/JPEG/TIFF/BMP
through Pillow, DICOM through pydicom)."""

from __future__ import annotations

import medaug
from medaug.testing import Check, parametrize_with_checks

NAMES = medaug.list_readers()


def test_first_party_readers_are_registered() -> None:
    assert {"folder", "dicom"} <= set(NAMES)


@parametrize_with_checks("reader", NAMES)
def test_reader_contract(check: Check) -> None:
    check()
