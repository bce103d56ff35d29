"""The decode cache: decoded, resized images kept on disk and reused by every command.

Layout under the cache directory (``cache_dir=``, else ``$MEDAUG_CACHE_DIR``, else
``platformdirs.user_cache_dir("medaug")``)::

    decode-v1/<bundle>/index.json       keys, gray flags, shape, dtype, checksum
    decode-v1/<bundle>/images-<n>.npy   (N, C, H, W) uint8 or uint16, memory-mapped
    scans-v2/<key>.json                 a reader's scan of an unchanged folder tree

A bundle is one dataset root at one working size with one reader's decode options.
Rows are keyed per record by (path, size, mtime, frame), so changing a few files
re-decodes only those. Writes are atomic (temporary file + ``os.replace``); an index
or array that fails validation (JSON, shape, dtype, CRC-32) is ignored and rebuilt.
The dataset folder is never written to. Cached scans hold pseudonyms, never the
readers' patient ids (DICOM PatientIDs); scans of older versions (``scans-v1``, which
held them in plain text) are deleted when a scan is next saved.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import platformdirs

from medaug.atomic import atomic_path, atomic_write_bytes

CACHE_ENV = "MEDAUG_CACHE_DIR"
DECODE_VERSION = 1
SCAN_VERSION = 2


def cache_root(cache_dir: Path | str | None = None) -> Path:
    """The cache directory: ``cache_dir``, else ``$MEDAUG_CACHE_DIR``, else the user's
    cache directory for medaug."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    env = os.environ.get(CACHE_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_cache_dir("medaug"))


def digest(*parts: Any) -> str:
    """A short stable hex digest of ``parts`` (their ``repr``)."""
    return hashlib.blake2b(repr(parts).encode("utf-8"), digest_size=16).hexdigest()


def _crc(array: np.ndarray) -> int:
    return zlib.crc32(np.ascontiguousarray(array).view(np.uint8).reshape(-1).data)


# -- scans --------------------------------------------------------------------------------


def load_scan_json(root: Path, key: str) -> dict[str, Any] | None:
    """The cached scan stored under ``key``, or ``None`` (missing or unreadable)."""
    path = root / f"scans-v{SCAN_VERSION}" / f"{key}.json"
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("key") == key else None


def save_scan_json(root: Path, key: str, data: dict[str, Any]) -> None:
    """Store a scan under ``key`` (best effort: an unwritable cache is not an error), and
    delete the scans of older versions."""
    path = root / f"scans-v{SCAN_VERSION}" / f"{key}.json"
    with contextlib.suppress(OSError, TypeError, ValueError):
        atomic_write_bytes(path, json.dumps({**data, "key": key}).encode("utf-8"))
    purge_old_scans(root)


def purge_old_scans(root: Path) -> None:
    """Delete cached scans of older versions (``scans-v1`` held patient ids in plain
    text); best effort."""
    for version in range(1, SCAN_VERSION):
        folder = root / f"scans-v{version}"
        if not folder.is_dir() or folder.is_symlink():
            continue
        for path in folder.glob("*.json"):
            with contextlib.suppress(OSError):
                path.unlink()
        with contextlib.suppress(OSError):
            folder.rmdir()


# -- decoded bundles ------------------------------------------------------------------------


@dataclass
class Bundle:
    """Decoded rows of one dataset: ``images[i]`` belongs to ``keys[i]``."""

    keys: list[str]
    images: np.ndarray  # (N, C, H, W) uint8/uint16
    gray: np.ndarray  # (N,) bool: the row's source image was grayscale
    #: keys of records that failed to decode, with the reason (not retried until changed)
    failed: dict[str, str]
    #: the scan key the bundle was built for: when it matches, ``rows`` (record indices
    #: of the images) and ``failed_rows`` apply to the scan as is, no per-file check
    scan_key: str = ""
    rows: list[int] | None = None
    failed_rows: dict[int, str] | None = None


class BundleStore:
    """Reads and writes the bundle of one (root, size, decode options)."""

    def __init__(self, cache_dir: Path, bundle_id: str) -> None:
        self.dir = cache_dir / f"decode-v{DECODE_VERSION}" / bundle_id

    @property
    def index_path(self) -> Path:
        return self.dir / "index.json"

    def load(self) -> Bundle | None:
        """The stored bundle, or ``None`` when absent; a corrupt one is ``None`` too
        (its files are removed so it gets rebuilt)."""
        try:
            index = json.loads(self.index_path.read_text("utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            self._discard()
            return None
        try:
            if index.get("version") != DECODE_VERSION:
                raise ValueError("version")
            images = np.load(self.dir / index["file"], mmap_mode="c", allow_pickle=False)
            keys = list(index["keys"])
            gray = np.asarray(index["gray"], dtype=bool)
            failed = {str(k): str(v) for k, v in dict(index.get("failed", {})).items()}
            if (
                list(images.shape) != list(index["shape"])
                or str(images.dtype) != index["dtype"]
                or len(keys) != images.shape[0]
                or gray.shape != (len(keys),)
                or _crc(images) != index["crc32"]
            ):
                raise ValueError("mismatch")
        except (OSError, ValueError, KeyError, TypeError):
            self._discard()
            return None
        rows = index.get("rows")
        failed_rows = {int(k): str(v) for k, v in dict(index.get("failed_rows") or {}).items()}
        return Bundle(
            keys=keys,
            images=images,
            gray=gray,
            failed=failed,
            scan_key=str(index.get("scan_key", "")),
            rows=[int(r) for r in rows]
            if isinstance(rows, list) and len(rows) == len(keys)
            else None,
            failed_rows=failed_rows,
        )

    def save(self, bundle: Bundle) -> None:
        """Write ``bundle`` atomically (array first, then the index that names it)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        name = f"images-{os.getpid()}-{os.urandom(4).hex()}.npy"
        with atomic_path(self.dir / name) as tmp, open(tmp, "wb") as fh:
            np.save(fh, np.ascontiguousarray(bundle.images), allow_pickle=False)
        old = self._current_file()
        index = {
            "version": DECODE_VERSION,
            "file": name,
            "keys": bundle.keys,
            "gray": [bool(g) for g in bundle.gray],
            "failed": bundle.failed,
            "scan_key": bundle.scan_key,
            "rows": bundle.rows,
            "failed_rows": {str(k): v for k, v in (bundle.failed_rows or {}).items()},
            "shape": list(bundle.images.shape),
            "dtype": str(bundle.images.dtype),
            "crc32": _crc(bundle.images),
        }
        atomic_write_bytes(self.index_path, json.dumps(index).encode("utf-8"))
        if old and old != name:
            with contextlib.suppress(OSError):
                (self.dir / old).unlink()

    def _current_file(self) -> str | None:
        try:
            return str(json.loads(self.index_path.read_text("utf-8"))["file"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _discard(self) -> None:
        if not self.dir.is_dir():
            return
        for path in self.dir.iterdir():
            if path.name.startswith("."):  # another process's write in progress
                continue
            with contextlib.suppress(OSError):
                path.unlink()
