"""The decoded-pixel cap: huge images are skipped or decoded reduced, never decoded in
full (issue 12.12). The tests use a low cap, so every image stays small."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from medaug_folder.reader import FolderReader
from PIL import Image, ImageFile

from medaug.contracts.reader import ImageRecord, Skipped
from medaug.data import DataOptions, load_dataset, scan_dataset
from medaug.data.imaging import DEFAULT_MAX_PIXELS, MAX_PIXELS_ENV, resolve_max_pixels
from medaug.errors import MedaugError
from tests.hardening.corpus import (
    base,
    encode,
    jpeg_header_claiming,
    png_header_only,
    texture,
    write,
)


def _reasons(skipped: list[Skipped]) -> dict[str, str]:
    return {s.path.name: s.reason for s in skipped}


def test_default_cap_skips_a_12000_px_png_from_its_header(tmp_path: Path) -> None:
    """12000 x 12000 is under Pillow's own limit: it used to be decoded in full (~2 GB)."""
    root = base(tmp_path / "data")
    write(root / "a" / "huge.png", png_header_only(12000, 12000))
    scan = scan_dataset(root)
    assert resolve_max_pixels() == DEFAULT_MAX_PIXELS == 50_000_000
    assert _reasons(scan.skipped)["huge.png"].startswith(
        "image too large to decode: 12000x12000 is 144 million pixels, over the cap of 50 million"
    )


def test_large_jpeg_is_decoded_reduced_under_the_cap(tmp_path: Path) -> None:
    """A 2400 px JPEG (5.8 million pixels) passes a 200,000-pixel cap because it is
    decoded at 1/8 scale (300 x 300) for a small working size; a PNG that size does not."""
    root = base(tmp_path / "data")
    big = Image.fromarray(np.kron(texture(24), np.ones((100, 100), np.uint8)))
    write(root / "a" / "big.jpg", encode(big, "JPEG", quality=80))
    write(root / "a" / "big.png", encode(big.resize((500, 500)), "PNG"))
    ds = load_dataset(
        root,
        image_size=16,
        progress=False,
        options=DataOptions(workers=1, reader_options={"max_pixels": 200_000}),
    )
    assert [r.path.name for r in ds.records if r.label == "a"] == [
        "big.jpg",
        "good0.png",
        "good1.png",
    ]
    assert _reasons(ds.skipped)["big.png"].startswith(
        "image too large to decode: 500x500 is 250,000 pixels, over the cap of 200,000"
    )
    # the reduced image is the image: close to a plain resize of the full one
    expected = np.asarray(big.resize((16, 16), Image.Resampling.BILINEAR, reducing_gap=3.0))
    assert np.abs(ds.images[0, 0].astype(int) - expected.astype(int)).mean() < 8
    # a JPEG over the cap even at its smallest scale (1/8) is skipped by the scan
    write(root / "b" / "claims.jpg", jpeg_header_claiming(4000, 4000))
    assert _reasons(
        scan_dataset(root, options=DataOptions(reader_options={"max_pixels": 200_000})).skipped
    )["claims.jpg"] == (
        "image too large to decode: 500x500 (1/8 scale of 4000x4000, the smallest JPEG "
        "decode) is 250,000 pixels, over the cap of 200,000 (raise it with --max-pixels, "
        "the reader option max_pixels or $MEDAUG_MAX_PIXELS)"
    )
    (root / "b" / "claims.jpg").unlink()
    # a working size that needs a larger scale is over the cap: skipped when decoding
    wide = load_dataset(
        root,
        image_size=512,
        progress=False,
        options=DataOptions(workers=1, reader_options={"max_pixels": 200_000}),
    )
    assert _reasons(wide.skipped)["big.jpg"] == (
        "image too large to decode: 600x600 (reduced from 2400x2400) is 360,000 pixels, "
        "over the cap of 200,000 (raise it with --max-pixels, the reader option max_pixels or "
        "$MEDAUG_MAX_PIXELS)"
    )


def test_decode_refuses_before_reading_pixels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "a" / "x.png", encode(Image.fromarray(texture(40)), "PNG"))
    record = ImageRecord(path, "a", "p", meta={"width": 40, "height": 40})
    loads: list[tuple[int, int]] = []
    original = ImageFile.ImageFile.load

    def counting_load(self: ImageFile.ImageFile) -> object:
        loads.append(self.size)
        return original(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", counting_load)
    with pytest.raises(MedaugError, match=r"^image too large to decode: 40x40 is 1,600 pixels"):
        FolderReader(max_pixels=1000).decode(record, image_size=16, channels=None)
    assert loads == []  # refused from the header: no pixel was read
    out = FolderReader(max_pixels=1600).decode(record, image_size=16, channels=None)
    assert out.shape == (1, 16, 16) and set(loads) == {(40, 40)}  # read when allowed


def test_cap_from_the_environment_and_bad_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = base(tmp_path / "data")
    write(root / "b" / "wide.png", encode(Image.fromarray(texture(60)), "PNG"))
    monkeypatch.setenv(MAX_PIXELS_ENV, "3000")
    assert "wide.png" in _reasons(scan_dataset(root).skipped)
    assert "wide.png" not in _reasons(
        scan_dataset(root, options=DataOptions(reader_options={"max_pixels": 4000})).skipped
    )
    monkeypatch.setenv(MAX_PIXELS_ENV, "lots")
    with pytest.raises(MedaugError, match="invalid MEDAUG_MAX_PIXELS 'lots'"):
        scan_dataset(root)
    monkeypatch.delenv(MAX_PIXELS_ENV)
    with pytest.raises(MedaugError, match="invalid max_pixels 0"):
        scan_dataset(root, options=DataOptions(reader_options={"max_pixels": 0}))


def test_dicom_frames_over_the_cap_are_skipped(tmp_path: Path) -> None:
    from tests.helpers import write_dicom

    for cls in ("a", "b"):
        write_dicom(tmp_path / cls / "small.dcm", texture(16), patient_id=cls)
    write_dicom(tmp_path / "a" / "big.dcm", texture(64))
    ds = load_dataset(
        tmp_path,
        image_size=16,
        progress=False,
        options=DataOptions(workers=1, reader_options={"max_pixels": 1000}),
    )
    assert _reasons(ds.skipped) == {
        "big.dcm": "image too large to decode: 64x64 is 4,096 pixels, over the cap of 1,000 "
        "(raise it with --max-pixels, the reader option max_pixels or $MEDAUG_MAX_PIXELS)"
    }
    assert ds.counts() == {"a": 1, "b": 1}
