"""Reader selection, third-party readers, class-name safety."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

import medaug
from medaug.contracts.reader import ImageRecord, Reader, Scan
from medaug.data import (
    DataOptions,
    class_folder_name,
    class_folder_names,
    load_dataset,
    scan_dataset,
    validate_class_name,
)
from medaug.errors import MedaugError
from medaug.plugins import get_host


class NpyReader(Reader):
    """Toy third-party reader: ``<class>.npy`` files holding (N, H, W) uint8 stacks."""

    def __init__(self, *, scale: int = 1) -> None:
        self.scale = scale

    @classmethod
    def can_read(cls, root: Path, **options: Any) -> float:
        return 0.8 if any(root.glob("*.npy")) else 0.0

    def scan(self, root: Path) -> Scan:
        records = []
        for path in sorted(root.glob("*.npy")):
            n = np.load(path, mmap_mode="r").shape[0]
            records += [ImageRecord(path, path.stem, f"{path.stem}{i}", frame=i) for i in range(n)]
        return Scan(root=root, records=records, skipped=[])

    def decode(self, record: ImageRecord, *, image_size: int, channels: int | None) -> np.ndarray:
        arr = np.load(record.path)[record.frame] * self.scale
        return np.asarray(Image.fromarray(arr).resize((image_size, image_size)))[None]

    def cache_token(self) -> str:
        return f"npy:{self.scale}"


class _Plugin:
    @medaug.hookimpl
    def register_readers(self, register: Any) -> None:
        register("npy", NpyReader)


def test_third_party_reader_takes_part_in_auto(tmp_path: Path) -> None:
    get_host().register(_Plugin(), name="npy-plugin")
    for cls, value in (("x", 3), ("y", 5)):
        np.save(tmp_path / f"{cls}.npy", np.full((2, 8, 8), value, np.uint8))
    assert "npy" in medaug.list_readers()
    ds = load_dataset(tmp_path, image_size=8, progress=False, options=DataOptions(workers=1))
    assert ds.reader == "npy" and ds.counts() == {"x": 2, "y": 2} and int(ds.images[2].max()) == 5
    scaled = load_dataset(
        tmp_path,
        image_size=8,
        progress=False,
        options=DataOptions(workers=1, reader="npy", reader_options={"scale": 2}),
    )
    assert int(scaled.images[2].max()) == 10  # options flow to the factory and the cache key


def test_folder_reader_hands_dcm_to_the_dicom_reader(tmp_path: Path) -> None:
    from tests.helpers import gradient, write_dicom

    write_dicom(tmp_path / "a" / "x.dcm", gradient(16, 255, np.uint8))
    (tmp_path / "b").mkdir()
    Image.fromarray(gradient(16, 255, np.uint8)).save(tmp_path / "b" / "y.png")
    ds = load_dataset(tmp_path, image_size=16, progress=False, options=DataOptions(workers=1))
    assert ds.reader == "folder" and [r.format for r in ds.records] == ["dicom", "image"]
    assert ds.source_format == "image"
    assert np.abs(ds.images[0].astype(int) - ds.images[1].astype(int)).max() <= 1


def test_class_name_safety() -> None:
    assert validate_class_name("No Lung Opacity / Not Normal") == "No Lung Opacity / Not Normal"
    assert class_folder_name("No Lung Opacity / Not Normal") == "No Lung Opacity _ Not Normal"
    assert class_folder_name("épanchement pleural") == "épanchement pleural"
    for bad in (
        "..",
        ".",
        "",
        "  ",
        "/etc",
        "C:\\x",
        "\\\\server\\x",
        "a/../../b",
        "a\x00b",
        "tab\there",
    ):
        with pytest.raises(MedaugError):
            validate_class_name(bad)
    with pytest.raises(MedaugError, match="share the output folder"):
        class_folder_names(["a/b", "a_b"])


def test_missing_path_and_file_root(tmp_path: Path) -> None:
    with pytest.raises(MedaugError, match="does not exist"):
        scan_dataset(tmp_path / "nope")
    (tmp_path / "f.png").write_bytes(b"")
    with pytest.raises(MedaugError, match="not a folder"):
        scan_dataset(tmp_path / "f.png")


def test_the_old_reading_keywords_still_work_with_a_deprecation_warning(tmp_path: Path) -> None:
    get_host().register(_Plugin(), name="npy-plugin")
    data, cache = tmp_path / "data", tmp_path / "cache"
    data.mkdir()
    for cls, value in (("x", 3), ("y", 5)):
        np.save(data / f"{cls}.npy", np.full((2, 8, 8), value, np.uint8))
    options = DataOptions(reader="npy", workers=1, cache_dir=cache, reader_options={"scale": 2})
    new = load_dataset(data, image_size=8, progress=False, options=options)
    match = r"load_dataset\(\): the keyword arguments reader, workers, cache_dir, scale are dep"
    with pytest.warns(DeprecationWarning, match=match):
        old = load_dataset(  # type: ignore[call-arg]
            data, image_size=8, progress=False, reader="npy", workers=1, cache_dir=cache, scale=2
        )
    assert old.reader == new.reader == "npy" and old.counts() == new.counts()
    assert np.array_equal(old.images, new.images) and int(old.images[2].max()) == 10
    with pytest.warns(DeprecationWarning, match=r"scan_dataset\(\): the keyword arguments reader"):
        scan = scan_dataset(data, reader="npy", min_classes=2)  # type: ignore[call-arg]
    assert scan.counts() == {"x": 2, "y": 2}
    with pytest.warns(DeprecationWarning):  # a reader object and workers=0, taken as before
        ds = load_dataset(data, image_size=8, progress=False, reader=NpyReader(scale=2), workers=0)  # type: ignore[call-arg]
    assert int(ds.images[2].max()) == 10
    with pytest.warns(DeprecationWarning):  # with options too, the keywords are ignored as before
        plain = load_dataset(data, image_size=8, progress=False, options=DataOptions(), scale=2)  # type: ignore[call-arg]
    assert int(plain.images[2].max()) == 5
