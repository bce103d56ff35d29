"""``scan_dataset``: list a dataset (labels, patients, skipped files) without decoding.

A scan of an unchanged folder tree (same files, sizes and mtimes, same reader
options) is reused from the cache, so later commands start in milliseconds. Patient ids
are replaced by pseudonyms (:func:`medaug.data.patients.pseudonym`) as soon as a reader
returns its scan, so neither the cache nor anything after the scan holds the reader's
ids (DICOM PatientIDs). Nor does the cached scan hold file names, which are often
patient ids too (``<PatientID>.dcm``): a file of the dataset is stored as its position
in the walk of the unchanged tree (:func:`medaug.data.files.tree_listing`), which the
cache key already depends on.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from medaug.contracts.reader import ImageRecord, Reader, Scan, Skipped
from medaug.data import cache
from medaug.data.files import require_dir, tree_listing
from medaug.data.names import printable
from medaug.data.options import DataOptions, read_keywords_deprecated
from medaug.data.patients import pseudonym
from medaug.data.select import resolve_reader
from medaug.errors import MedaugError


class _NotListed(Exception):
    """A path inside the dataset that the tree listing lacks: the scan is not cached."""


def _path_ref(path: Path, root: str, index: dict[str, int]) -> int | str:
    """A dataset path as its position in the listing; a path outside the dataset (a
    labels CSV) as itself."""
    text = str(path)
    if not text.startswith(root):
        return text
    position = index.get(text[len(root) :])
    if position is None:
        raise _NotListed(text)
    return position


def _to_json(scan: Scan, listing: list[str]) -> dict[str, Any]:
    root = str(scan.root) + os.sep
    index = {rel: i for i, rel in enumerate(listing)}
    metas: dict[str, int] = {}
    rows = []
    for r in scan.records:
        meta = json.dumps(dict(r.meta), sort_keys=True)
        rows.append(
            [
                _path_ref(r.path, root, index),
                r.label,
                r.patient_id,
                r.frame,
                r.format,
                metas.setdefault(meta, len(metas)),
            ]
        )
    return {
        "records": rows,
        "metas": list(metas),
        "skipped": [[_path_ref(s.path, root, index), s.reason] for s in scan.skipped],
    }


def _from_json(root: Path, data: dict[str, Any], listing: list[str]) -> Scan:
    metas = [json.loads(m) for m in data["metas"]]

    def path(ref: int | str) -> Path:
        return root / listing[ref] if isinstance(ref, int) else Path(ref)

    records = [
        ImageRecord(path(ref), label, pid, frame, fmt, metas[mi])
        for ref, label, pid, frame, fmt, mi in data["records"]
    ]
    skipped = [Skipped(path(ref), reason) for ref, reason in data["skipped"]]
    return Scan(root=root, records=records, skipped=skipped)


def pseudonymise(scan: Scan) -> Scan:
    """``scan`` with every record's patient id replaced by its pseudonym (same equality,
    same order of first appearance: patient splits are unchanged)."""
    names: dict[str, str] = {}
    records = [
        replace(r, patient_id=names.setdefault(r.patient_id, pseudonym(r.patient_id)))
        for r in scan.records
    ]
    return replace(scan, records=records)


def cached_scan(
    reader: Reader, root: Path, *, cache_dir: Path | str | None = None
) -> tuple[Scan, str]:
    """``reader.scan(root)`` with pseudonymous patient ids, reused from the cache while the
    tree is unchanged; also returns the scan key (it identifies this exact tree state
    and reader options)."""
    store = cache.cache_root(cache_dir)
    fingerprint, listing = tree_listing(root)
    key = cache.digest(str(root), type(reader).__qualname__, reader.scan_token(), fingerprint)
    data = cache.load_scan_json(store, key)
    if data is not None:
        try:
            return _from_json(root, data, listing), key
        except (KeyError, TypeError, ValueError, IndexError):
            pass
    scan = pseudonymise(reader.scan(root))
    with contextlib.suppress(_NotListed):  # a reader's own path naming: not cached
        cache.save_scan_json(store, key, _to_json(scan, listing))
    return scan, key


def check_scan(scan: Scan, *, min_classes: int = 1) -> Scan:
    """Raise a one-line :class:`MedaugError` when ``scan`` has no usable images or fewer
    than ``min_classes`` classes; return it unchanged otherwise."""
    if not scan.records:
        reasons = "; ".join(f"{printable(s.path.name)}: {s.reason}" for s in scan.skipped[:3])
        more = f" (+{len(scan.skipped) - 3} more)" if len(scan.skipped) > 3 else ""
        detail = f" - skipped {reasons}{more}" if reasons else ""
        raise MedaugError(f"no readable images in {str(scan.root)!r}{detail}")
    classes = scan.classes
    if len(classes) < min_classes:
        raise MedaugError(
            f"only {len(classes)} class found in {str(scan.root)!r} ({', '.join(classes)}); "
            f"at least {min_classes} are needed"
        )
    return scan


@read_keywords_deprecated("reader", "labels", "label_tag", "patient_regex", "cache_dir")
def scan_dataset(
    root: Path | str, *, options: DataOptions | None = None, min_classes: int = 1
) -> Scan:
    """List the dataset at ``root`` with the chosen reader; no pixel is decoded.

    ``options`` (a :class:`~medaug.data.options.DataOptions`, default ``DataOptions()``)
    says how to read it: ``reader`` (a registered reader name or ``"auto"``), ``labels``
    (a CSV), ``label_tag`` (a DICOM attribute), ``patient_regex`` and any other
    ``reader_options`` go to the reader. Raises :class:`MedaugError` for a missing path,
    no class folders, no readable image or fewer than ``min_classes`` classes.

    The reading keyword arguments this function took before ``options`` (``reader=``,
    ``labels=``, ``label_tag=``, ``patient_regex=``, ``cache_dir=`` and reader options)
    still work, with a :class:`DeprecationWarning`.
    """
    options = options if options is not None else DataOptions()
    _, scan, _ = open_dataset(root, **options.scan_kwargs())
    return check_scan(scan, min_classes=min_classes)


def open_dataset(
    root: Path | str,
    *,
    reader: str | Reader = "auto",
    cache_dir: Path | str | None = None,
    **options: Any,
) -> tuple[Reader, Scan, str]:
    """Resolve the reader for ``root`` and scan it (cached); no checks on the result.
    Returns the reader, the scan and the scan key.

    A ``medaug balance`` output folder is read through its ``dataset/`` folder (its
    class folders), so ``OUT`` itself can be given wherever a dataset is expected.
    """
    from medaug.output.layout import OutputLayout

    path = require_dir(root)
    layout = OutputLayout.find(path)
    if layout is not None:
        path = layout.dataset_root
    store = cache.cache_root(cache_dir)
    if store.resolve().is_relative_to(path):
        raise MedaugError(
            f"the cache folder {str(store)!r} is inside the dataset; "
            "medaug never writes into a dataset: choose another --cache-dir"
        )
    name, rdr = resolve_reader(path, reader, **options)
    scan, key = cached_scan(rdr, path, cache_dir=cache_dir)
    scan.reader = name
    return rdr, scan, key
