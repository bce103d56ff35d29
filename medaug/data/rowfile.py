"""An ``.npy`` file of ``(N, C, H, W)`` images written one row at a time, read memory-mapped.

The decode cache grows with the dataset (112,000 images at 128 px are 1.8 GB), so no
step holds all rows in memory: :class:`RowWriter` appends each decoded row to the file
as it arrives, and :func:`open_rows` maps the finished file (copy-on-write) instead of
reading it. The header is reserved for the largest shape the file can reach and
rewritten, padded to the same length, once the row count is known.

Rows may differ: a ``uint16`` row makes the whole file ``uint16`` (earlier rows are
widened x257, 255 -> 65535) and a 3-channel row makes it 3-channel (earlier gray rows
repeated), as when rows were assembled in memory. Such a change rewrites the rows
written so far, a chunk at a time; it happens at most twice per file.
"""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np

from medaug.data.imaging import widen

MAGIC = b"\x93NUMPY\x01\x00"
#: bytes read or rewritten at a time (checksums, widening)
CHUNK_BYTES = 4 * 2**20


def npy_header(shape: tuple[int, ...], dtype: np.dtype, length: int | None = None) -> bytes:
    """A version-1.0 ``.npy`` header for a C-ordered array, padded with spaces to
    ``length`` bytes (default: the next multiple of 64)."""
    descr = np.lib.format.dtype_to_descr(np.dtype(dtype))
    text = f"{{'descr': {descr!r}, 'fortran_order': False, 'shape': {tuple(shape)!r}, }}"
    base = len(MAGIC) + 2 + len(text) + 1
    total = length if length is not None else -(-base // 64) * 64
    if total < base:
        raise ValueError(f"npy header needs {base} bytes, {total} reserved")
    text += " " * (total - base) + "\n"
    return MAGIC + struct.pack("<H", len(text)) + text.encode("latin1")


def data_crc(path: Path, offset: int, nbytes: int) -> int:
    """CRC-32 of ``nbytes`` bytes of ``path`` from ``offset``, read into one reused
    buffer of :data:`CHUNK_BYTES` (never the whole file at once)."""
    crc = 0
    buffer = bytearray(min(CHUNK_BYTES, max(nbytes, 1)))
    view = memoryview(buffer)
    with open(path, "rb") as fh:
        fh.seek(offset)
        left = nbytes
        while left > 0:
            got = fh.readinto(view[: min(len(buffer), left)])
            if not got:
                raise ValueError(f"{path.name} ends {left} bytes early")
            crc = zlib.crc32(view[:got], crc)
            left -= got
    return crc


def open_rows(path: Path) -> np.ndarray:
    """The array in the ``.npy`` file ``path``, memory-mapped copy-on-write: writing to
    it changes this process's copy, never the file."""
    return np.load(path, mmap_mode="c", allow_pickle=False)


def mapped_offset(array: np.ndarray) -> int:
    """Where the data of a memory-mapped ``.npy`` array starts in its file."""
    return int(getattr(array, "offset", 0))


class RowWriter:
    """Appends ``(C, H, W)`` ``uint8``/``uint16`` rows to the ``.npy`` file ``path``.

    ``capacity`` bounds the row count (the header is sized for it). Call
    :meth:`finish` once every row is written, or :meth:`discard` to remove the file.
    """

    def __init__(self, path: Path, capacity: int, height: int, width: int) -> None:
        self.path = Path(path)
        self.hw = (int(height), int(width))
        self.header_len = len(npy_header((max(capacity, 1), 3, *self.hw), np.dtype("<u2")))
        self.dtype = np.dtype(np.uint8)
        self.channels = 1
        self.count = 0
        self.crc = 0
        self._fh: BinaryIO = open(self.path, "wb")  # noqa: SIM115 - closed by finish/discard
        self._fh.write(b"\0" * self.header_len)

    @property
    def row_bytes(self) -> int:
        return self.channels * self.hw[0] * self.hw[1] * self.dtype.itemsize

    def append(self, row: np.ndarray) -> None:
        """Write one ``(C, H, W)`` row (``C`` 1 or 3)."""
        if row.ndim != 3 or row.shape[0] not in (1, 3) or row.shape[1:] != self.hw:
            raise ValueError(f"row of shape {row.shape} in a file of {self.hw} images")
        wide = row.dtype == np.uint16 and self.dtype == np.uint8
        colour = row.shape[0] == 3 and self.channels == 1
        if wide or colour:
            self._promote(np.dtype(np.uint16) if wide else self.dtype, 3 if colour else 1)
        bits = 16 if self.dtype == np.uint16 else 8
        out = widen(row[None], bits)[0]
        if out.shape[0] != self.channels:
            out = np.broadcast_to(out, (self.channels, *self.hw))
        data = np.ascontiguousarray(out, dtype=self._disk_dtype()).tobytes()
        self._fh.write(data)
        self.crc = zlib.crc32(data, self.crc)
        self.count += 1

    def _promote(self, dtype: np.dtype, channels: int) -> None:
        """Rewrite the rows written so far as ``dtype`` with at least ``channels``."""
        new_dtype, new_channels = np.dtype(dtype), max(channels, self.channels)
        if self.count == 0:
            self.dtype, self.channels = new_dtype, new_channels
            return
        self._fh.flush()
        old_shape, old_row = (self.channels, *self.hw), self.row_bytes
        bits = 16 if new_dtype == np.uint16 else 8
        wider = self.path.with_name(self.path.name + ".widen")
        per_chunk = max(1, CHUNK_BYTES // old_row)
        crc = 0
        with open(self.path, "rb") as src, open(wider, "wb") as dst:
            src.seek(self.header_len)
            dst.write(b"\0" * self.header_len)
            left = self.count
            while left:
                n = min(per_chunk, left)
                block = np.frombuffer(src.read(n * old_row), dtype=self._disk_dtype())
                rows = widen(block.reshape(n, *old_shape), bits)
                rows = np.broadcast_to(rows, (n, new_channels, *self.hw))
                data = np.ascontiguousarray(rows, dtype=new_dtype.newbyteorder("<")).tobytes()
                dst.write(data)
                crc = zlib.crc32(data, crc)
                left -= n
        self._fh.close()
        os.replace(wider, self.path)
        self._fh = open(self.path, "r+b")  # noqa: SIM115 - closed by finish/discard
        self._fh.seek(0, os.SEEK_END)
        self.dtype, self.channels, self.crc = new_dtype, new_channels, crc

    def _disk_dtype(self) -> np.dtype:
        return self.dtype.newbyteorder("<")

    def finish(self) -> tuple[list[int], str, int]:
        """Write the final header, flush to disk and close; returns the array's shape,
        dtype name and the CRC-32 of its data."""
        shape = (self.count, self.channels, *self.hw)
        self._fh.seek(0)
        self._fh.write(npy_header(shape, self._disk_dtype(), self.header_len))
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        return list(shape), str(self.dtype), self.crc

    def discard(self) -> None:
        """Close and remove the file (and a half-written widened copy)."""
        if not self._fh.closed:
            self._fh.close()
        for path in (self.path, self.path.with_name(self.path.name + ".widen")):
            if path.exists():
                path.unlink()

    def read_back(self) -> np.ndarray:
        """The rows written so far, read into memory (when the file cannot be finished)."""
        if not self._fh.closed:
            self._fh.flush()
        shape = (self.count, self.channels, *self.hw)
        with open(self.path, "rb") as fh:
            fh.seek(self.header_len)
            data = fh.read(self.count * self.row_bytes)
        return np.frombuffer(data, dtype=self._disk_dtype()).reshape(shape).astype(self.dtype)


__all__ = ["RowWriter", "data_crc", "mapped_offset", "npy_header", "open_rows"]
