"""The folder reader: every Pillow mode, bit depths, EXIF, bad files, class names."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from medaug.data import DataOptions, load_dataset, scan_dataset
from medaug.data.patients import pseudonym
from medaug.errors import MedaugError
from tests.helpers import tree_hash


def _ramp(size: int = 24) -> np.ndarray:
    return np.tile(np.linspace(0, 255, size).round().astype(np.uint8), (size, 1))


def _save(img: Image.Image, path: Path, **kw: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, **kw)
    return path


def _two_class(root: Path, n: int = 2) -> None:
    for cls in ("a", "b"):
        for i in range(n):
            _save(Image.fromarray(_ramp()), root / cls / f"p{i}_{cls}.png")


def test_grayscale_rgb_is_one_channel(tmp_path: Path) -> None:
    gray = _ramp()
    _save(Image.fromarray(np.stack([gray] * 3, -1)), tmp_path / "a" / "x.png")
    _save(Image.fromarray(gray), tmp_path / "b" / "y.png")
    ds = load_dataset(tmp_path, image_size=16, progress=False)
    assert ds.channels == 1 and ds.images.shape == (2, 1, 16, 16) and ds.images.dtype == np.uint8
    assert ds.counts() == {"a": 1, "b": 1} and ds.bit_depth == 8 and ds.source_format == "image"
    assert np.array_equal(ds.images[0], ds.images[1])


def test_colour_makes_three_channels_and_channels_option(tmp_path: Path) -> None:
    colour = np.zeros((24, 24, 3), np.uint8)
    colour[..., 0] = 200
    _save(Image.fromarray(colour), tmp_path / "a" / "c.png")
    _save(Image.fromarray(_ramp()), tmp_path / "b" / "g.png")
    ds = load_dataset(tmp_path, image_size=16, progress=False)
    assert ds.channels == 3 and ds.images.shape == (2, 3, 16, 16)
    assert ds.images[0, 0].min() == 200 and ds.images[0, 1].max() == 0
    assert np.array_equal(ds.images[1, 0], ds.images[1, 2])
    one = load_dataset(tmp_path, image_size=16, channels=1, progress=False)
    assert one.images.shape == (2, 1, 16, 16)
    assert abs(int(one.images[0, 0, 0, 0]) - round(0.299 * 200)) <= 1
    three = load_dataset(tmp_path, image_size=16, channels="3", progress=False)
    assert three.images.shape == (2, 3, 16, 16)


@pytest.mark.parametrize(
    ("mode", "ext"),
    [
        ("1", "png"),
        ("L", "bmp"),
        ("LA", "png"),
        ("P", "png"),
        ("RGBA", "png"),
        ("CMYK", "jpg"),
        ("RGB", "jpg"),
        ("L", "tif"),
        ("RGB", "tiff"),
        ("L", "gif"),
        ("L", "webp"),
    ],
)
def test_every_mode_decodes(tmp_path: Path, mode: str, ext: str) -> None:
    base = Image.fromarray(np.stack([_ramp()] * 3, -1))
    img = base.convert(mode)
    _save(img, tmp_path / "a" / f"x.{ext}")
    _save(Image.fromarray(_ramp()), tmp_path / "b" / "y.png")
    ds = load_dataset(tmp_path, image_size=16, progress=False)
    assert ds.skipped == [] and len(ds) == 2
    assert ds.images.dtype == np.uint8


def test_alpha_and_palette_transparency_composite_on_black(tmp_path: Path) -> None:
    rgba = np.zeros((24, 24, 4), np.uint8)
    rgba[..., :3] = 255
    rgba[:, :12, 3] = 255  # left half opaque white, right half transparent
    _save(Image.fromarray(rgba, "RGBA"), tmp_path / "a" / "x.png")
    pal = Image.fromarray(_ramp()).convert("P")
    pal.info["transparency"] = 0
    _save(pal, tmp_path / "b" / "p.png", transparency=0)
    ds = load_dataset(tmp_path, image_size=24, progress=False)
    x = ds.images[0, 0]
    assert x[:, :10].min() == 255 and x[:, 14:].max() == 0


def test_sixteen_bit_png_and_tiff_keep_range(tmp_path: Path) -> None:
    arr = np.tile(np.linspace(0, 60000, 24).round().astype(np.uint16), (24, 1))
    _save(Image.fromarray(arr), tmp_path / "a" / "x.png")
    _save(Image.fromarray(arr), tmp_path / "a" / "y.tif")
    _save(Image.fromarray(_ramp()), tmp_path / "b" / "z.png")
    ds = load_dataset(tmp_path, image_size=24, progress=False)
    assert ds.bit_depth == 16 and ds.images.dtype == np.uint16
    assert ds.records[0].meta["bits"] == 16
    assert abs(int(ds.images[0].max()) - 60000) <= 2 and abs(int(ds.images[1].max()) - 60000) <= 2
    assert int(ds.images[2].max()) == 65535  # the 8-bit image widened x257
    t = ds.to_tensor(value_range=(0.0, 1.0))
    assert abs(float(t[0].max()) - 60000 / 65535) < 1e-3


def test_exif_orientation_applied(tmp_path: Path) -> None:
    arr = np.zeros((24, 24), np.uint8)
    arr[:12] = 255  # top half white
    img = Image.fromarray(arr)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 CW on display: the white top becomes the right half
    _save(img, tmp_path / "a" / "x.jpg", exif=exif, quality=100)
    _save(Image.fromarray(arr), tmp_path / "b" / "y.png")
    ds = load_dataset(tmp_path, image_size=24, progress=False)
    x = ds.images[0, 0].astype(int)
    assert x[:, 16:].mean() > 200 and x[:, :8].mean() < 50


def test_bad_files_skipped_with_reasons_and_input_untouched(tmp_path: Path) -> None:
    root = tmp_path / "data"
    _two_class(root)
    good = (root / "a" / "p0_a.png").read_bytes()
    jpeg = root / "a" / "ok.jpg"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64), dtype=np.uint8)).save(jpeg)
    (root / "a" / "truncated.jpg").write_bytes(jpeg.read_bytes()[:-100])
    png = bytearray(good)
    idat = png.index(b"IDAT")
    png[idat + 8 : idat + 20] = b"\x00" * 12  # corrupt pixel data, header and IEND intact
    (root / "a" / "midcorrupt.png").write_bytes(bytes(png))
    (root / "a" / "garbage.png").write_bytes(b"not a png at all")
    (root / "a" / "truncated.png").write_bytes(good[: len(good) // 2])
    (root / "b" / "notes.txt").write_text("hello")
    (root / "b" / ".hidden.png").write_bytes(good)
    (root / "b" / "Thumbs.db").write_bytes(b"x")
    (root / "__MACOSX").mkdir()
    (root / "__MACOSX" / "._p0.png").write_bytes(b"x")
    (root / "empty class").mkdir()
    (root / "stray.png").write_bytes(good)
    before = tree_hash(root)
    ds = load_dataset(root, image_size=16, progress=False)
    assert tree_hash(root) == before
    reasons = {str(s.path.relative_to(root)): s.reason for s in ds.skipped}
    assert "truncated JPEG" in reasons["a/truncated.jpg"]
    assert reasons["a/midcorrupt.png"].startswith("cannot decode")
    assert "corrupt or not an image" in reasons["a/garbage.png"]
    assert "truncated PNG" in reasons["a/truncated.png"]
    assert reasons["b/notes.txt"] == "not an image (.txt file)"
    assert reasons["b/.hidden.png"] == "hidden file"
    assert "thumbnail" in reasons["b/Thumbs.db"]
    assert "__MACOSX" in reasons["__MACOSX"]
    assert "empty class folder" in reasons["empty class"]
    assert reasons["stray.png"] == "not inside a class folder"
    assert ds.counts() == {"a": 3, "b": 2}


def test_unicode_and_spaces_in_class_names(tmp_path: Path) -> None:
    for cls in ("Lung Opacity", "épanchement pleural", "正常"):
        _save(Image.fromarray(_ramp()), tmp_path / cls / "sub" / "deep" / "x.png")
    scan = scan_dataset(tmp_path)
    assert scan.classes == sorted(["Lung Opacity", "épanchement pleural", "正常"])


def test_backslash_class_folder_rejected(tmp_path: Path) -> None:
    _save(Image.fromarray(_ramp()), tmp_path / "ok" / "x.png")
    _save(Image.fromarray(_ramp()), tmp_path / "x\\..\\..\\evil" / "x.png")
    with pytest.raises(MedaugError, match="escape the output folder"):
        scan_dataset(tmp_path)


def test_multiframe_tiff_one_record_per_frame(tmp_path: Path) -> None:
    frames = [Image.fromarray(_ramp()), Image.fromarray(255 - _ramp())]
    frames[0].save(tmp_path / "x.tif", save_all=True, append_images=frames[1:])
    (tmp_path / "a").mkdir()
    (tmp_path / "x.tif").rename(tmp_path / "a" / "x.tif")
    _save(Image.fromarray(_ramp()), tmp_path / "b" / "y.png")
    ds = load_dataset(tmp_path, image_size=16, progress=False)
    assert [r.frame for r in ds.records] == [0, 1, 0]
    assert ds.images[0, 0, 0, 0] < 20 and ds.images[1, 0, 0, 0] > 235


def test_patient_ids_from_chestxray_names(tmp_path: Path) -> None:
    names = [
        "person1_bacteria_1.jpeg",
        "person1_virus_7.jpeg",
        "IM-0115-0001.jpeg",
        "NORMAL2-IM-0300-0001.jpeg",
        "other.jpeg",
    ]
    for n in names:
        _save(Image.fromarray(_ramp()), tmp_path / "a" / n)
    scan = scan_dataset(tmp_path)
    expected = ["IM-0115", "NORMAL2-IM-0300", "other", "person1", "person1"]
    assert [r.patient_id for r in scan.records] == [pseudonym(p) for p in expected]
    custom = scan_dataset(tmp_path, options=DataOptions(patient_regex=r"^(\w+?)[_-]"))
    assert custom.records[-1].patient_id == pseudonym("person1")
    assert custom.records[0].patient_id == pseudonym("IM")
    with pytest.raises(MedaugError, match=r"^invalid patient_regex"):
        scan_dataset(tmp_path, options=DataOptions(patient_regex="("))
