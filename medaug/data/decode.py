"""Decoding many records in parallel, one small array each.

A process pool (``fork`` where available) spreads records over the cores in chunks;
each worker keeps one full-resolution frame at a time. A record that fails to decode
becomes a reason string, never an exception. :func:`iter_decode` yields the results in
order as chunks finish, so a caller can write each away (the decode cache does) instead
of holding every decoded image.
"""

from __future__ import annotations

import multiprocessing
import sys
from collections.abc import Callable, Generator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import numpy as np

from medaug.contracts.reader import ImageRecord, Reader
from medaug.errors import MedaugError

#: below this many records the pool costs more than it saves
MIN_PARALLEL = 48
CHUNK = 32

Result = np.ndarray | str

_worker_reader: Reader | None = None


def default_workers() -> int:
    """Worker processes to use: the cores this process may use (affinity, cgroup quota;
    :func:`medaug.runtime.usable_cpus`; at most 8); 1 inside a
    daemonic process (a DataLoader worker...), which may not start children."""
    if multiprocessing.current_process().daemon:
        return 1
    from medaug.runtime import usable_cpus

    return max(1, min(usable_cpus(), 8))


def failure_reason(exc: BaseException) -> str:
    """A one-line reason for a decode failure."""
    if isinstance(exc, MedaugError):
        return str(exc)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"cannot decode ({type(exc).__name__}{': ' + text if text else ''})"


def decode_one(reader: Reader, record: ImageRecord, image_size: int) -> Result:
    """Decode ``record`` with its native channel count; a failure is a reason string."""
    try:
        array = reader.decode(record, image_size=image_size, channels=None)
    except Exception as exc:
        return failure_reason(exc)
    if (
        not isinstance(array, np.ndarray)
        or array.ndim != 3
        or array.shape[0] not in (1, 3)
        or array.shape[1:] != (image_size, image_size)
        or array.dtype not in (np.uint8, np.uint16)
    ):
        shape = getattr(array, "shape", None)
        dtype = getattr(array, "dtype", None)
        return f"reader returned an invalid array (shape {shape}, dtype {dtype})"
    return array


def _init_worker(reader: Reader) -> None:
    global _worker_reader
    _worker_reader = reader
    try:
        import torch

        torch.set_num_threads(1)
    except Exception:  # pragma: no cover - torch is a dependency
        pass


def _decode_chunk(records: Sequence[ImageRecord], image_size: int) -> list[Result]:
    assert _worker_reader is not None
    return [decode_one(_worker_reader, r, image_size) for r in records]


def _call_chunk(fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
    return [fn(item) for item in items]


def parallel_map(
    fn: Callable[[Any], Any],
    items: Sequence[Any],
    *,
    workers: int | None = None,
    chunk: int = 64,
) -> list[Any]:
    """``[fn(x) for x in items]`` spread over worker processes (order kept); inline for
    short lists or one worker. ``fn`` must be a picklable top-level function, and must
    not raise for one bad item (return a reason instead). Readers use it to probe files."""
    n_workers = default_workers() if workers is None else max(1, int(workers))
    if multiprocessing.current_process().daemon:
        n_workers = 1
    if n_workers == 1 or len(items) < max(MIN_PARALLEL, 2 * chunk):
        return [fn(item) for item in items]
    chunks = [items[i : i + chunk] for i in range(0, len(items), chunk)]
    out: list[Any] = []
    with ProcessPoolExecutor(
        max_workers=min(n_workers, len(chunks)), mp_context=_context()
    ) as pool:
        for done in pool.map(_call_chunk, [fn] * len(chunks), chunks):
            out.extend(done)
    return out


def _context() -> Any:
    methods = multiprocessing.get_all_start_methods()
    if sys.platform.startswith("linux") and "fork" in methods:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()


def decode_records(
    reader: Reader,
    records: Sequence[ImageRecord],
    image_size: int,
    *,
    workers: int | None = None,
    on_done: Callable[[int], None] | None = None,
) -> list[Result]:
    """Decode every record (order kept) on ``workers`` processes (default: all CPUs).
    ``on_done(n)`` is called as chunks of ``n`` records finish."""
    return list(iter_decode(reader, records, image_size, workers=workers, on_done=on_done))


def iter_decode(
    reader: Reader,
    records: Sequence[ImageRecord],
    image_size: int,
    *,
    workers: int | None = None,
    on_done: Callable[[int], None] | None = None,
) -> Generator[Result, None, None]:
    """:func:`decode_records` as a generator: each result is yielded, in order, as soon
    as its chunk is done. Stopping early cancels the chunks not started."""
    n_workers = default_workers() if workers is None else max(1, int(workers))
    if multiprocessing.current_process().daemon:
        n_workers = 1
    if n_workers == 1 or len(records) < MIN_PARALLEL:
        for record in records:
            yield decode_one(reader, record, image_size)
            if on_done:
                on_done(1)
        return
    chunks = [records[i : i + CHUNK] for i in range(0, len(records), CHUNK)]
    pool = ProcessPoolExecutor(
        max_workers=min(n_workers, len(chunks)),
        mp_context=_context(),
        initializer=_init_worker,
        initargs=(reader,),
    )
    finished = False
    try:
        done = pool.map(_decode_chunk, chunks, [image_size] * len(chunks))
        for chunk, results in zip(chunks, done, strict=True):
            yield from results
            if on_done:
                on_done(len(chunk))
        finished = True
    except BrokenProcessPool:
        raise MedaugError(
            "a decode worker process died (a decoder crash on a malformed file, or out of "
            "memory); rerun with --workers 1 to find the file"
        ) from None
    finally:
        # every chunk done: the idle workers exit on their own (the executor joins them);
        # stopped early: wait until the chunks being decoded are given up
        pool.shutdown(wait=not finished, cancel_futures=True)
