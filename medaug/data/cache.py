"""The decode cache: decoded, resized images kept on disk and reused by every command.

Layout under the cache directory (``cache_dir=``, else ``$MEDAUG_CACHE_DIR``, else
``platformdirs.user_cache_dir("medaug")``)::

    decode-v1/<bundle>/index.json       keys, gray flags, shape, dtype, checksum
    decode-v1/<bundle>/images-<n>.npy   (N, C, H, W) uint8 or uint16, memory-mapped
    scans-v3/<key>.json                 a reader's scan of an unchanged folder tree

A bundle is one dataset root at one working size with one reader's decode options.
Rows are keyed per record by (path, size, mtime, frame), so changing a few files
re-decodes only those. Writes are atomic (temporary file + ``os.replace``); an index
or array that fails validation (JSON, shape, dtype, CRC-32) is ignored and rebuilt.

Neither writing nor reading a bundle holds its images in memory: :class:`BundleWriter`
streams rows into the array file as they are decoded (:mod:`medaug.data.rowfile`), a
load maps the file copy-on-write and checks its CRC-32 reading a chunk at a time. Only
when the cache folder cannot be written are the rows kept in memory instead.
The dataset folder is never written to. Cached scans hold pseudonyms, never the
readers' patient ids (DICOM PatientIDs), and no file names (often patient ids too: a
file is its position in the walk of the unchanged tree); scans of older versions
(``scans-v1`` held the ids in plain text, ``scans-v2`` the file names) are deleted when
a scan is next saved. Bundle indexes hold digests of the records' paths, not the paths.
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

from medaug.atomic import TMP_PREFIX, atomic_write_bytes, tmp_path_for
from medaug.data.imaging import widen
from medaug.data.rowfile import RowWriter, data_crc, mapped_offset, open_rows
from medaug.errors import MedaugError

CACHE_ENV = "MEDAUG_CACHE_DIR"
DECODE_VERSION = 1
SCAN_VERSION = 3


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
    with contextlib.suppress(OSError, TypeError, ValueError, MedaugError):  # a full disk
        atomic_write_bytes(path, json.dumps({**data, "key": key}).encode("utf-8"))
    purge_old_scans(root)


def purge_old_scans(root: Path) -> None:
    """Delete cached scans of older versions (``scans-v1`` held patient ids in plain
    text, ``scans-v2`` file names); best effort."""
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
        """The stored bundle (images memory-mapped), or ``None`` when absent; a corrupt
        one is ``None`` too (its files are removed so it gets rebuilt)."""
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
            path = self.dir / index["file"]
            images = open_rows(path)
            keys = list(index["keys"])
            gray = np.asarray(index["gray"], dtype=bool)
            failed = {str(k): str(v) for k, v in dict(index.get("failed", {})).items()}
            if (
                list(images.shape) != list(index["shape"])
                or str(images.dtype) != index["dtype"]
                or len(keys) != images.shape[0]
                or gray.shape != (len(keys),)
                or path.stat().st_size != mapped_offset(images) + images.nbytes
                or data_crc(path, mapped_offset(images), images.nbytes) != index["crc32"]
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

    def writer(self, capacity: int, image_size: int) -> BundleWriter:
        """A :class:`BundleWriter` for a new version of this bundle (at most
        ``capacity`` rows of ``image_size`` px)."""
        return BundleWriter(self, capacity, image_size)

    def current_file(self) -> str | None:
        """The array file the index names, or ``None``."""
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


class BundleWriter:
    """A new bundle, row by row: each image goes to the array file as it is added, the
    index is written last (:meth:`commit`), then the previous array file is removed.

    When the cache folder cannot be written (read-only, full, an I/O error), the rows
    are kept in memory instead and :attr:`problem` says why; :meth:`commit` then
    returns them as a plain array and leaves the cache as it was.
    """

    def __init__(self, store: BundleStore, capacity: int, image_size: int) -> None:
        self.store = store
        self.image_size = image_size
        self.name = f"images-{os.getpid()}-{os.urandom(4).hex()}.npy"
        self.keys: list[str] = []
        self.gray: list[bool] = []
        self.problem: str | None = None
        self._memory: list[np.ndarray] | None = None
        self._rows: RowWriter | None = None
        try:
            store.dir.mkdir(parents=True, exist_ok=True)
            remove_orphans(store.dir)
            self._rows = RowWriter(
                tmp_path_for(store.dir / self.name), capacity, image_size, image_size
            )
        except OSError as exc:
            self._fail(exc)

    def __enter__(self) -> BundleWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._rows is not None:  # not committed: an error stopped the build
            with contextlib.suppress(OSError):
                self._rows.discard()

    def _fail(self, exc: Exception) -> None:
        """Keep the rows in memory from now on (those written so far are read back)."""
        self.problem = f"could not write the decode cache in {self.store.dir}: {exc}"
        rows = self._rows
        self._rows = None
        self._memory = []
        if rows is None:
            return
        try:
            written = rows.read_back()
        except OSError as again:
            raise MedaugError(f"{self.problem} (and cannot read it back: {again})") from None
        finally:
            with contextlib.suppress(OSError):
                rows.discard()
        self._memory.extend(written)

    def add(self, key: str, row: np.ndarray) -> None:
        """Add the decoded ``(C, H, W)`` row of record ``key``."""
        if self._rows is not None:
            try:
                self._rows.append(row)
            except OSError as exc:
                self._fail(exc)
        if self._memory is not None:
            self._memory.append(row)
        self.keys.append(key)
        self.gray.append(row.shape[0] == 1)

    def commit(
        self,
        *,
        failed: dict[str, str],
        scan_key: str,
        rows: list[int],
        failed_rows: dict[int, str],
    ) -> Bundle:
        """Finish the array, write the index; the bundle with its images memory-mapped
        (in memory when the cache could not be written)."""
        gray = np.asarray(self.gray, dtype=bool)
        bundle = Bundle(
            keys=self.keys,
            images=np.zeros((0, 1, self.image_size, self.image_size), np.uint8),
            gray=gray,
            failed=failed,
            scan_key=scan_key,
            rows=rows,
            failed_rows=failed_rows,
        )
        if self._rows is not None:
            try:
                bundle.images = self._publish(self._rows, bundle)
                self._rows = None
                return bundle
            except (OSError, MedaugError) as exc:  # MedaugError: a full disk (atomic write)
                self._fail(exc)
        bundle.images = _assemble(self._memory or [], self.image_size)
        return bundle

    def _publish(self, writer: RowWriter, bundle: Bundle) -> np.ndarray:
        shape, dtype, crc = writer.finish()
        final = self.store.dir / self.name
        os.replace(writer.path, final)
        old = self.store.current_file()
        index = {
            "version": DECODE_VERSION,
            "file": self.name,
            "keys": bundle.keys,
            "gray": [bool(g) for g in bundle.gray],
            "failed": bundle.failed,
            "scan_key": bundle.scan_key,
            "rows": bundle.rows,
            "failed_rows": {str(k): v for k, v in (bundle.failed_rows or {}).items()},
            "shape": shape,
            "dtype": dtype,
            "crc32": crc,
        }
        try:
            atomic_write_bytes(self.store.index_path, json.dumps(index).encode("utf-8"))
        except (OSError, MedaugError):
            writer.path = final  # read back from, then removed by, ``_fail``
            raise
        if old and old != self.name:
            with contextlib.suppress(OSError):
                (self.store.dir / old).unlink()
        return open_rows(final)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def remove_orphans(folder: Path) -> None:
    """Delete array files that an interrupted build left in ``folder`` (their writing
    process is gone); files of builds still running are kept. Best effort."""
    for path in folder.glob(f"{TMP_PREFIX}*-images-*"):
        pid = path.name[len(TMP_PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and not _pid_alive(int(pid)):
            with contextlib.suppress(OSError):
                path.unlink()


def _assemble(rows: list[np.ndarray], image_size: int) -> np.ndarray:
    """Rows of mixed depth and channels as one in-memory array (as the file would be)."""
    if not rows:
        return np.zeros((0, 1, image_size, image_size), np.uint8)
    dtype = np.uint16 if any(r.dtype == np.uint16 for r in rows) else np.uint8
    channels = 3 if any(r.shape[0] == 3 for r in rows) else 1
    out = np.empty((len(rows), channels, image_size, image_size), dtype=dtype)
    bits = 16 if dtype == np.uint16 else 8
    for i, row in enumerate(rows):
        out[i] = widen(row[None], bits)[0]
    return out
