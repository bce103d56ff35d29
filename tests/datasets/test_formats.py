"""Every registered file format (``register_formats``) writes a synthetic image that reads
back as exactly the pixels it was given, claims its own files, and copies a file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import medaug
from medaug.contracts.fileformat import FileFormat, Series
from medaug.plugins import file_format, format_of

FORMATS = medaug.plugins.registry("format").list()


def test_first_party_formats_are_registered() -> None:
    assert {"png", "dicom"} <= set(FORMATS)


@pytest.mark.parametrize("name", FORMATS)
@pytest.mark.parametrize(("dtype", "top"), [(np.uint8, 255), (np.uint16, 65535)])
def test_a_written_gray_image_reads_back_exactly(
    name: str, dtype: type, top: int, tmp_path: Path
) -> None:
    fmt = file_format(name)
    assert isinstance(fmt, FileFormat)
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, top + 1, size=(1, 12, 10)).astype(dtype)
    path = tmp_path / f"synthetic_0_00000{fmt.suffix}"
    fmt.write(
        path,
        pixels,
        series=Series("NORMAL", "2.25.1", "2.25.2"),
        instance_number=1,
        provenance={"medaug:seed": "0", "medaug:class": "NORMAL", "Software": "medaug"},
        bit_depth=8 if dtype == np.uint8 else 16,
    )
    assert fmt.claims(path) and type(format_of(path)) is type(fmt)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left
    unit = fmt.read_unit(path)
    assert unit.dtype == np.float32 and unit.shape == pixels.shape
    np.testing.assert_array_equal(unit, pixels.astype(np.float32) / np.float32(top))
    copy = tmp_path / "copy" / path.name
    copy.parent.mkdir()
    fmt.copy_deidentified(path, copy)
    np.testing.assert_array_equal(fmt.read_unit(copy), unit)


def test_a_format_is_built_once_per_registry() -> None:
    assert file_format("png") is file_format("png")  # looked up once per file read
    before = file_format("dicom")

    class Late:
        @medaug.hookimpl
        def register_formats(self, register):  # type: ignore[no-untyped-def]
            register("late", "medaug_folder.formats:PngFormat")

    medaug.get_plugin_manager().register(Late(), name="late-format")
    assert "late" in medaug.plugins.registry("format").list()
    assert file_format("dicom") is not before  # rebuilt with the registries


def test_files_no_format_claims_are_read_as_pictures(tmp_path: Path) -> None:
    assert type(format_of(tmp_path / "scan.jpeg")) is type(file_format("png"))
    assert type(format_of(tmp_path / "scan.dicom")) is type(file_format("dicom"))
