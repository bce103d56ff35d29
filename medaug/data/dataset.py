"""``ImageDataset`` and ``load_dataset``: a labelled dataset decoded to the working size.

``load_dataset`` scans (cached), decodes only what the decode cache lacks (in
parallel, each image written to the cache as it is decoded), and returns every image
as one ``(N, C, H, W)`` array memory-mapped from the cache: a dataset larger than the
memory loads. Gray images asked for as 3 channels are a read-only broadcast view of
the same file; colour images asked for as 1 channel are converted in chunks into
memory (``N x H x W`` values).
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch

from medaug import limits
from medaug.contracts.reader import ImageRecord, Reader, Scan, Skipped
from medaug.data import cache
from medaug.data.decode import Result, iter_decode
from medaug.data.imaging import channels_view
from medaug.data.options import DataOptions, parse_channels, read_keywords_deprecated
from medaug.data.scan import check_scan, open_dataset
from medaug.errors import MedaugError


@dataclass
class ImageDataset:
    """Decoded images with labels; ``images[i]`` is ``records[i]`` of class
    ``classes[targets[i]]``."""

    root: Path
    classes: list[str]
    records: list[ImageRecord]
    images: np.ndarray
    targets: np.ndarray
    skipped: list[Skipped]
    image_size: int
    channels: int
    bit_depth: int
    source_format: str
    #: the registered name of the reader used
    reader: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.records)

    @property
    def patients(self) -> np.ndarray:
        """Patient id of every row (object array)."""
        return np.array([r.patient_id for r in self.records], dtype=object)

    def counts(self) -> dict[str, int]:
        """Images per class, in :attr:`classes` order."""
        per = np.bincount(self.targets, minlength=len(self.classes))
        return {c: int(per[i]) for i, c in enumerate(self.classes)}

    def class_indices(self, name: str) -> np.ndarray:
        """Row indices of class ``name``."""
        if name not in self.classes:
            raise MedaugError(f"unknown class {name!r}; classes: {', '.join(self.classes)}")
        return np.flatnonzero(self.targets == self.classes.index(name))

    def to_tensor(
        self,
        indices: Sequence[int] | np.ndarray | None = None,
        *,
        value_range: tuple[float, float] = (-1.0, 1.0),
    ) -> torch.Tensor:
        """Rows as float32 ``(N, C, H, W)`` scaled from ``[0, 2**bit_depth - 1]`` to
        ``value_range``."""
        arr = self.images if indices is None else self.images[np.asarray(indices, dtype=np.int64)]
        lo, hi = value_range
        maxval = float(2**self.bit_depth - 1)
        t = torch.from_numpy(np.asarray(arr, dtype=np.float32))
        return t.mul_((hi - lo) / maxval).add_(lo)

    def subset(self, indices: Sequence[int] | np.ndarray) -> ImageDataset:
        """The rows ``indices`` as a new dataset (same classes, copied images)."""
        idx = np.asarray(indices, dtype=np.int64)
        return replace(
            self,
            records=[self.records[i] for i in idx],
            images=np.ascontiguousarray(self.images[idx]),
            targets=self.targets[idx].copy(),
            skipped=list(self.skipped),
            meta=dict(self.meta),
        )


def _record_key(record: ImageRecord, stats: dict[Path, os.stat_result]) -> str:
    st = stats.get(record.path)
    if st is None:
        try:
            st = stats[record.path] = os.stat(record.path)
        except OSError:
            return cache.digest(str(record.path), record.frame, "missing")
    return cache.digest(str(record.path), st.st_size, st.st_mtime_ns, record.frame)


def _progress(total: int, enabled: bool) -> Any:
    if not enabled or total < 64:
        return None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from medaug.console import err_console

    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    )


@dataclass(frozen=True)
class _Decoding:
    """How images are decoded: to ``image_size`` px squares, on ``workers`` processes
    (``None``: all CPUs), with a progress bar or not."""

    image_size: int
    workers: int | None
    progress: bool


@contextmanager
def _decoded(
    reader: Reader, records: list[ImageRecord], decoding: _Decoding
) -> Iterator[Generator[Result, None, None]]:
    """The decode results of ``records`` in order, as they come, with a progress bar;
    leaving early stops the decode workers."""
    bar = _progress(len(records), decoding.progress)
    with bar if bar is not None else nullcontext():
        on_done = None
        if bar is not None:
            task = bar.add_task("decoding", total=len(records))
            on_done = partial(bar.advance, task)
        results = iter_decode(
            reader, records, decoding.image_size, workers=decoding.workers, on_done=on_done
        )
        try:
            yield results
        finally:
            results.close()


def _update_bundle(
    store: cache.BundleStore,
    bundle: cache.Bundle | None,
    reader: Reader,
    scan: Scan,
    scan_key: str,
    decoding: _Decoding,
) -> tuple[list[int], dict[int, str], np.ndarray, np.ndarray]:
    """Decode what ``bundle`` lacks for ``scan`` and write the new bundle, one row at a
    time (rows kept from ``bundle`` are copied from its file); return ``(rows,
    failed_rows, images, gray)`` with ``images`` memory-mapped from the new bundle."""
    stats: dict[Path, os.stat_result] = {}
    keys = [_record_key(r, stats) for r in scan.records]
    old_rows = {k: i for i, k in enumerate(bundle.keys)} if bundle else {}
    old_failed = bundle.failed if bundle else {}
    todo = {i for i, k in enumerate(keys) if k not in old_rows and k not in old_failed}
    failed: dict[str, str] = {}
    failed_rows: dict[int, str] = {}
    good: list[int] = []
    missing = [scan.records[i] for i in sorted(todo)]
    with (
        store.writer(len(keys), decoding.image_size) as writer,
        _decoded(reader, missing, decoding) as results,
    ):
        for i, key in enumerate(keys):
            result: Result | None = next(results) if i in todo else None
            if isinstance(result, str) or (result is None and key in old_failed):
                failed[key] = failed_rows[i] = (
                    result if isinstance(result, str) else old_failed[key]
                )
                continue
            good.append(i)
            if result is None:
                assert bundle is not None
                result = np.asarray(bundle.images[old_rows[key]])
                if bundle.gray[old_rows[key]] and result.shape[0] == 3:
                    result = result[:1]  # stored widened to 3 channels: gray at heart
            writer.add(key, result)
        new = writer.commit(failed=failed, scan_key=scan_key, rows=good, failed_rows=failed_rows)
    if writer.problem:
        from medaug.console import warn

        warn(f"{writer.problem}; the decoded images are kept in memory")
    return good, failed_rows, new.images, new.gray


@read_keywords_deprecated("reader", "labels", "label_tag", "patient_regex", "cache_dir", "workers")
def load_dataset(
    root: Path | str,
    *,
    image_size: int = 64,
    channels: int | str = "auto",
    options: DataOptions | None = None,
    progress: bool = True,
    min_classes: int = 1,
) -> ImageDataset:
    """Scan and decode the dataset at ``root`` to ``image_size`` px squares.

    ``channels`` is 1, 3 or ``"auto"`` (1 when every image is grayscale). ``options``
    (a :class:`~medaug.data.options.DataOptions`, default ``DataOptions()``) says how
    to read it: reader and reader options, labels, patient ids, cache folder and decode
    workers. Decoded images come from the decode cache when present; the rest are
    decoded on ``options.workers`` processes and cached. Files that fail to decode join
    ``skipped``. Raises :class:`MedaugError` when fewer than ``min_classes`` classes
    have readable images.

    The reading keyword arguments this function took before ``options`` (``reader=``,
    ``labels=``, ``label_tag=``, ``patient_regex=``, ``cache_dir=``, ``workers=`` and
    reader options such as ``max_pixels=``) still work, with a
    :class:`DeprecationWarning`.
    """
    options = options if options is not None else DataOptions()
    limits.image_size(image_size, "for decoding")
    want = parse_channels(channels)
    rdr, scan, scan_key = open_dataset(root, **options.scan_kwargs())
    check_scan(scan, min_classes=min_classes)
    store = cache.BundleStore(
        cache.cache_root(options.cache_dir),
        cache.digest(str(scan.root), image_size, type(rdr).__qualname__, rdr.cache_token()),
    )
    bundle = store.load()
    if (
        bundle is not None
        and bundle.scan_key == scan_key
        and bundle.rows is not None
        and bundle.failed_rows is not None
        and len(bundle.rows) + len(bundle.failed_rows) == len(scan.records)
    ):
        # the tree and the options are unchanged since the bundle was written
        good, failed_rows = bundle.rows, bundle.failed_rows
        images, gray = bundle.images, bundle.gray
    else:
        decoding = _Decoding(image_size, options.workers, progress)
        good, failed_rows, images, gray = _update_bundle(
            store, bundle, rdr, scan, scan_key, decoding
        )
    skipped = list(scan.skipped) + [
        Skipped(scan.records[i].path, reason) for i, reason in sorted(failed_rows.items())
    ]
    records = [scan.records[i] for i in good]
    kept = replace(scan, records=records, skipped=skipped)
    check_scan(kept, min_classes=min_classes)
    out_channels = want if want is not None else (1 if bool(np.all(gray)) else 3)
    images = channels_view(images, out_channels)
    classes = kept.classes
    index = {c: i for i, c in enumerate(classes)}
    return ImageDataset(
        root=scan.root,
        classes=classes,
        records=records,
        images=images,
        targets=np.array([index[r.label] for r in records], dtype=np.int64),
        skipped=skipped,
        image_size=image_size,
        channels=out_channels,
        bit_depth=16 if images.dtype == np.uint16 else 8,
        source_format="dicom" if all(r.format == "dicom" for r in records) else "image",
        reader=scan.reader,
    )
