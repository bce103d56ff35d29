"""The decode cache at scale: rows stream to disk as they are decoded, loads map the file,
channel conversion stays lazy or chunked, and an unwritable cache falls back to memory."""

from __future__ import annotations

import errno
import os
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import medaug.data.cache as cache_mod
import medaug.data.imaging as imaging
import medaug.data.rowfile as rowfile
from medaug.atomic import tmp_path_for
from medaug.contracts.reader import ImageRecord, Reader, Scan
from medaug.data import DataOptions, load_dataset
from medaug.data.cache import remove_orphans
from medaug.data.imaging import convert_channels
from medaug.data.rowfile import RowWriter, data_crc, mapped_offset, open_rows
from medaug.errors import MedaugError


class Generated(Reader):
    """``n`` generated images (no files): row ``i`` is filled with ``i % 251``."""

    def __init__(self, n: int, dtype: type = np.uint8) -> None:
        self.n, self.dtype = n, dtype

    def scan(self, root: Path) -> Scan:
        records = [
            ImageRecord(root / f"img{i}", "ab"[i % 2], f"p{i}", meta={"width": 8, "height": 8})
            for i in range(self.n)
        ]
        return Scan(root=root, records=records, skipped=[])

    def decode(self, record: ImageRecord, *, image_size: int, channels: int | None) -> np.ndarray:
        i = int(record.path.name[3:])
        return np.full((1, image_size, image_size), i % 251, dtype=self.dtype)

    def cache_token(self) -> str:
        return f"Generated:{self.n}:{np.dtype(self.dtype).name}"


def _mapped(array: np.ndarray) -> bool:
    """True when ``array`` is (a view of) a memory-mapped file."""
    base: object = array
    while base is not None:
        if isinstance(base, np.memmap):
            return True
        base = getattr(base, "base", None)
    return False


def test_rows_widen_to_the_widest_row(tmp_path: Path) -> None:
    gray8 = np.full((1, 4, 4), 200, np.uint8)
    gray16 = np.full((1, 4, 4), 40000, np.uint16)
    colour8 = np.arange(48, dtype=np.uint8).reshape(3, 4, 4)
    path = tmp_path / "rows.npy"
    writer = RowWriter(path, 10, 4, 4)
    for row in (gray8, gray16, colour8, gray8):
        writer.append(row)
    shape, dtype, crc = writer.finish()
    array = open_rows(path)
    assert shape == [4, 3, 4, 4] and dtype == "uint16" and array.dtype == np.uint16
    assert np.all(array[0] == 200 * 257) and np.all(array[1] == 40000)  # widened x257
    assert np.array_equal(array[2], colour8.astype(np.uint16) * 257)
    assert np.all(array[3] == 200 * 257)  # gray repeated into 3 channels
    assert crc == data_crc(path, mapped_offset(array), array.nbytes)
    assert not path.with_name("rows.npy.widen").exists()
    with pytest.raises(ValueError, match=r"row of shape \(1, 5, 5\)"):
        RowWriter(tmp_path / "x.npy", 1, 4, 4).append(np.zeros((1, 5, 5), np.uint8))


def test_loads_are_memory_mapped_and_3_channels_a_view(tmp_path: Path) -> None:
    root = tmp_path / "data"
    root.mkdir()
    cold = load_dataset(
        root, image_size=8, progress=False, options=DataOptions(reader=Generated(40), workers=2)
    )
    warm = load_dataset(
        root, image_size=8, progress=False, options=DataOptions(reader=Generated(40), workers=2)
    )
    for ds in (cold, warm):
        assert _mapped(ds.images) and ds.images.shape == (40, 1, 8, 8)
        assert [int(ds.images[i, 0, 0, 0]) for i in (0, 39)] == [0, 39]
    rgb = load_dataset(
        root,
        image_size=8,
        channels=3,
        progress=False,
        options=DataOptions(reader=Generated(40), workers=1),
    )
    assert rgb.images.shape == (40, 3, 8, 8) and rgb.channels == 3
    assert _mapped(rgb.images) and rgb.images.strides[1] == 0 and not rgb.images.flags.writeable
    assert np.array_equal(np.asarray(rgb.images), np.repeat(np.asarray(warm.images), 3, axis=1))
    assert rgb.to_tensor([5]).shape == (1, 3, 8, 8)


def test_cold_and_warm_loads_do_not_hold_the_images(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """96 images of 128 px uint16 are 3 MiB: neither the build nor a warm load (with its
    checksum) allocates anything near that."""
    monkeypatch.setattr(rowfile, "CHUNK_BYTES", 256 * 1024)
    root = tmp_path / "data"
    root.mkdir()
    reader = Generated(96, np.uint16)
    total = 96 * 128 * 128 * 2
    peaks = []
    for _ in range(2):  # cold, then warm
        tracemalloc.start()
        ds = load_dataset(
            root, image_size=128, progress=False, options=DataOptions(reader=reader, workers=1)
        )
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert _mapped(ds.images) and int(ds.images[95, 0, 5, 5]) == 95
    assert max(peaks) < total // 3, peaks


def test_colour_to_gray_is_converted_in_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imaging, "CONVERT_ROWS", 2)
    rng = np.random.default_rng(0)
    for cls in ("a", "b"):
        (tmp_path / cls).mkdir()
        for i in range(3):
            rgb = rng.integers(0, 255, (8, 8, 3), dtype=np.uint8)
            Image.fromarray(rgb).save(tmp_path / cls / f"{i}.png")
    colour = load_dataset(tmp_path, image_size=8, progress=False, options=DataOptions(workers=1))
    gray = load_dataset(
        tmp_path, image_size=8, channels=1, progress=False, options=DataOptions(workers=1)
    )
    assert colour.channels == 3 and gray.images.shape == (6, 1, 8, 8)
    assert np.array_equal(gray.images, convert_channels(np.asarray(colour.images), 1))


@pytest.mark.parametrize("when", ["start", "middle", "index"])
def test_unwritable_cache_keeps_rows_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], when: str
) -> None:
    root = tmp_path / "data"
    root.mkdir()
    expected = np.arange(10, dtype=np.uint8)
    if when == "start":

        def refuse(self: RowWriter, *args: object) -> None:
            raise PermissionError(errno.EACCES, "Permission denied")

        monkeypatch.setattr(RowWriter, "__init__", refuse)
    elif when == "index":
        atomic_write = cache_mod.atomic_write_bytes

        def no_index(path: Path, data: bytes) -> None:
            if path.name == "index.json":
                raise MedaugError(f"no space left on the disk of {path.parent} while writing")
            atomic_write(path, data)

        monkeypatch.setattr(cache_mod, "atomic_write_bytes", no_index)
    else:
        original = RowWriter.append

        def full_disk(self: RowWriter, row: np.ndarray) -> None:
            if self.count == 4:
                raise OSError(errno.ENOSPC, "No space left on device")
            original(self, row)

        monkeypatch.setattr(RowWriter, "append", full_disk)
    cache = tmp_path / "cache"
    ds = load_dataset(
        root,
        image_size=8,
        progress=False,
        options=DataOptions(reader=Generated(10), workers=1, cache_dir=cache),
    )
    assert np.array_equal(ds.images[:, 0, 0, 0], expected) and not _mapped(ds.images)
    assert "could not write the decode cache" in capsys.readouterr().err
    assert not any(p.suffix == ".npy" or ".widen" in p.name for p in cache.rglob("*"))


def test_orphans_of_dead_builds_are_removed(tmp_path: Path) -> None:
    mine = tmp_path_for(tmp_path / "images-1-ab.npy")
    mine.write_bytes(b"x")
    dead = tmp_path / mine.name.replace(f"-{os.getpid()}-", "-999999999-", 1)
    dead.write_bytes(b"x")
    remove_orphans(tmp_path)
    assert mine.exists() and not dead.exists()
