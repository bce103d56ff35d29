"""Reading single files as float images: PNG modes and bit depths, medaug's synthetic
DICOM captures (exact), real DICOM read the way medaug's DICOM reader reads it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from medaug_dicom.output import is_medaug_synthetic, write_dicom_sc
from PIL import Image

from medaug.contracts.fileformat import Series
from medaug.datasets.pixels import read_image, to_channels, to_size
from medaug.errors import MedaugError

RNG = np.random.default_rng(0)


def test_png_8_and_16_bit_gray_and_rgb(tmp_path: Path) -> None:
    gray8 = RNG.integers(0, 256, (12, 10), dtype=np.uint8)
    gray16 = RNG.integers(0, 65536, (12, 10), dtype=np.uint16)
    rgb = RNG.integers(0, 256, (12, 10, 3), dtype=np.uint8)
    Image.fromarray(gray8, mode="L").save(tmp_path / "g8.png")
    Image.fromarray(gray16).convert("I;16").save(tmp_path / "g16.png")
    Image.fromarray(rgb, mode="RGB").save(tmp_path / "rgb.png")
    np.testing.assert_array_equal(read_image(tmp_path / "g8.png"), gray8[None] / np.float32(255))
    np.testing.assert_array_equal(
        read_image(tmp_path / "g16.png"), gray16[None] / np.float32(65535)
    )
    np.testing.assert_array_equal(
        read_image(tmp_path / "rgb.png"), rgb.transpose(2, 0, 1) / np.float32(255)
    )


def test_alpha_and_palette_images_become_rgb(tmp_path: Path) -> None:
    rgba = RNG.integers(0, 256, (8, 8, 4), dtype=np.uint8)
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / "a.png")
    np.testing.assert_array_equal(
        read_image(tmp_path / "a.png"), rgba[..., :3].transpose(2, 0, 1) / np.float32(255)
    )
    Image.fromarray(rgba[..., :3], mode="RGB").convert("P").save(tmp_path / "p.png")
    assert read_image(tmp_path / "p.png").shape == (3, 8, 8)


def test_channels_and_size() -> None:
    rgb = RNG.random((3, 20, 30), dtype=np.float32)
    gray = to_channels(rgb, 1)
    expected = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]
    np.testing.assert_allclose(gray[0], expected, atol=1e-6)
    assert to_channels(gray, 3).shape == (3, 20, 30) and to_channels(rgb, None) is rgb
    small = to_size(rgb, 10)
    assert small.shape == (3, 10, 10) and small.dtype == np.float32
    # centre crop: a square image of the middle columns, not a squashed whole
    stripes = np.zeros((1, 20, 30), np.float32)
    stripes[..., 2:28] = 1.0  # the crop keeps columns 5..24; the filter reaches 2 px out
    np.testing.assert_allclose(to_size(stripes, 10), 1.0, atol=1e-6)


@pytest.mark.parametrize(("bits", "dtype"), [(8, np.uint8), (12, np.uint16), (16, np.uint16)])
def test_medaug_synthetic_dicom_reads_back_exactly(tmp_path: Path, bits: int, dtype: type) -> None:
    pixels: np.ndarray = RNG.integers(0, 2**bits, (1, 9, 7)).astype(dtype)
    path = tmp_path / "synthetic_0_00000.dcm"
    series = Series("NORMAL", "1.2.3", "1.2.3.4")
    write_dicom_sc(path, pixels, series=series, instance_number=1, provenance={}, bit_depth=bits)
    assert is_medaug_synthetic(pydicom.dcmread(path))
    np.testing.assert_array_equal(read_image(path), pixels / np.float32(2**bits - 1))


def _real_like(tmp_path: Path, name: str, **tags: object) -> tuple[Path, pydicom.Dataset]:
    """A 12-bit grayscale DICOM that is not medaug's (no Manufacturer/ConversionType)."""
    pixels: np.ndarray = RNG.integers(100, 3000, (1, 16, 12)).astype(np.uint16)
    path = tmp_path / f"{name}.dcm"
    write_dicom_sc(
        path,
        pixels,
        series=Series("X", "1.2.3", "1.2.3.4"),
        instance_number=1,
        provenance={},
        bit_depth=12,
    )
    ds = pydicom.dcmread(path)
    del ds.Manufacturer, ds.ConversionType
    for key, value in tags.items():
        setattr(ds, key, value)
    ds.save_as(path)
    return path, pydicom.dcmread(path)


@pytest.mark.parametrize(
    "tags",
    [
        {},
        {"PhotometricInterpretation": "MONOCHROME1"},
        {"WindowCenter": 1500, "WindowWidth": 1200},
        {"WindowCenter": 1500, "WindowWidth": 1200, "VOILUTFunction": "SIGMOID"},
        {"RescaleSlope": 2, "RescaleIntercept": -1024, "WindowCenter": 1000, "WindowWidth": 3000},
    ],
)
def test_real_dicom_reads_like_medaugs_dicom_reader(tmp_path: Path, tags: dict) -> None:
    from medaug_dicom.pixels import gray_unit

    path, ds = _real_like(tmp_path, "real", **tags)
    expected = gray_unit(ds.pixel_array, ds, window="auto")
    np.testing.assert_allclose(read_image(path)[0], expected, atol=1e-6)


def test_unreadable_files_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    with pytest.raises(MedaugError, match=r"cannot read .*broken\.png"):
        read_image(bad)
