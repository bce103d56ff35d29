"""The decode cache: warm loads decode nothing, stale and corrupt entries are rebuilt."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import medaug.data.decode as decode_mod
from medaug.data import DataOptions, cache_root, load_dataset, scan_dataset
from medaug.data.cache import CACHE_ENV
from tests.helpers import tree_hash


def _folder(root: Path, n: int = 3, size: int = 20) -> Path:
    rng = np.random.default_rng(0)
    for cls in ("a", "b"):
        (root / cls).mkdir(parents=True)
        for i in range(n):
            Image.fromarray(rng.integers(0, 255, (size, size), dtype=np.uint8)).save(
                root / cls / f"p{i}.png"
            )
    return root


class _Counter:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        original = decode_mod.decode_one

        def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
            self.calls += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(decode_mod, "decode_one", counting)


def _load(root: Path, cache_dir: Path | None = None):  # type: ignore[no-untyped-def]
    options = DataOptions(workers=1, cache_dir=cache_dir)
    return load_dataset(root, image_size=16, progress=False, options=options)


def test_cache_dir_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert cache_root(tmp_path / "x") == tmp_path / "x"
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "env"))
    assert cache_root() == tmp_path / "env"
    monkeypatch.delenv(CACHE_ENV)
    assert "medaug" in str(cache_root())


def test_warm_load_decodes_nothing_and_is_identical(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _folder(tmp_path / "data")
    before = tree_hash(root)
    counter = _Counter(monkeypatch)
    cold = _load(root)
    assert counter.calls == 6
    warm = _load(root)
    assert counter.calls == 6
    assert np.array_equal(np.asarray(cold.images), np.asarray(warm.images))
    assert [r.path for r in cold.records] == [r.path for r in warm.records]
    assert tree_hash(root) == before  # nothing was written into the dataset
    warm.images[0, 0, 0, 0] ^= 1  # copy-on-write: the cache file is not touched
    assert np.array_equal(np.asarray(_load(root).images), np.asarray(cold.images))
    load_dataset(root, image_size=8, progress=False, options=DataOptions(workers=1))
    assert counter.calls == 12  # another size is another cache entry


def test_changed_file_is_redecoded_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    root = _folder(tmp_path / "data")
    first = _load(root)
    counter = _Counter(monkeypatch)
    target = root / "a" / "p1.png"
    Image.fromarray(np.full((20, 20), 7, np.uint8)).save(target)
    os.utime(target, ns=(1, 1))
    second = _load(root)
    assert counter.calls == 1
    assert second.images[1].max() == 7 and np.array_equal(second.images[0], first.images[0])
    (root / "b" / "p2.png").unlink()
    third = _load(root)
    assert counter.calls == 1 and len(third) == 5


@pytest.mark.parametrize("damage", ["truncate", "flip", "index"])
def test_corrupt_cache_is_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    root = _folder(tmp_path / "data")
    cache = tmp_path / "cache"
    good = np.array(_load(root, cache_dir=cache).images)  # a copy: the load maps the file
    npy = next(cache.rglob("images-*.npy"))
    if damage == "truncate":
        npy.write_bytes(npy.read_bytes()[:-50])
    elif damage == "flip":
        data = bytearray(npy.read_bytes())
        data[-10] ^= 0xFF
        npy.write_bytes(bytes(data))
    else:
        next(cache.rglob("index.json")).write_text("{not json")
    counter = _Counter(monkeypatch)
    again = _load(root, cache_dir=cache)
    assert counter.calls == 6
    assert np.array_equal(np.asarray(again.images), good)


def test_failed_decodes_are_remembered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _folder(tmp_path / "data")
    png = bytearray((root / "a" / "p0.png").read_bytes())
    i = png.index(b"IDAT")
    png[i + 8 : i + 20] = b"\x00" * 12
    (root / "a" / "p0.png").write_bytes(bytes(png))
    first = _load(root)
    assert len(first) == 5 and first.skipped[0].reason.startswith("cannot decode")
    counter = _Counter(monkeypatch)
    second = _load(root)
    assert counter.calls == 0 and [s.reason for s in second.skipped] == [
        s.reason for s in first.skipped
    ]


def test_parallel_equals_serial(tmp_path: Path) -> None:
    root = _folder(tmp_path / "data", n=30)
    serial = load_dataset(
        root,
        image_size=16,
        progress=False,
        options=DataOptions(workers=1, cache_dir=tmp_path / "c1"),
    )
    parallel = load_dataset(
        root,
        image_size=16,
        progress=False,
        options=DataOptions(workers=2, cache_dir=tmp_path / "c2"),
    )
    assert np.array_equal(np.asarray(serial.images), np.asarray(parallel.images))


def test_scan_is_cached_until_tree_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from medaug_folder.reader import FolderReader

    root = _folder(tmp_path / "data")
    calls = []
    original = FolderReader.scan
    monkeypatch.setattr(FolderReader, "scan", lambda self, r: calls.append(1) or original(self, r))
    scan_dataset(root)
    scan_dataset(root)
    assert len(calls) == 1
    (root / "b" / "new.png").write_bytes((root / "b" / "p0.png").read_bytes())
    assert scan_dataset(root).counts() == {"a": 3, "b": 4} and len(calls) == 2


def test_cache_inside_dataset_is_refused(tmp_path: Path) -> None:
    from medaug.errors import MedaugError

    root = _folder(tmp_path / "data")
    before = tree_hash(root)
    with pytest.raises(MedaugError, match="never writes into a dataset"):
        _load(root, cache_dir=root / "cache")
    assert tree_hash(root) == before
