"""``scan_dataset``: list a dataset (labels, patients, skipped files) without decoding.

A scan of an unchanged folder tree (same files, sizes and mtimes, same reader
options) is reused from the cache, so later commands start in milliseconds. Patient ids
are replaced by pseudonyms (:func:`medaug.data.patients.pseudonym`) as soon as a reader
returns its scan, so neither the cache nor anything after the scan holds the reader's
ids (DICOM PatientIDs).
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from medaug.contracts.reader import ImageRecord, Reader, Scan, Skipped
from medaug.data import cache
from medaug.data.files import require_dir, tree_fingerprint
from medaug.data.options import DataOptions
from medaug.data.patients import pseudonym
from medaug.data.select import resolve_reader
from medaug.errors import MedaugError


def _to_json(scan: Scan) -> dict[str, Any]:
    root = str(scan.root) + os.sep
    metas: dict[str, int] = {}
    rows = []
    for r in scan.records:
        path = str(r.path)
        rel = path[len(root) :] if path.startswith(root) else path
        meta = json.dumps(dict(r.meta), sort_keys=True)
        rows.append(
            [rel, r.label, r.patient_id, r.frame, r.format, metas.setdefault(meta, len(metas))]
        )
    return {
        "records": rows,
        "metas": list(metas),
        "skipped": [[str(s.path), s.reason] for s in scan.skipped],
    }


def _from_json(root: Path, data: dict[str, Any]) -> Scan:
    metas = [json.loads(m) for m in data["metas"]]
    base = str(root) + os.sep
    records = [
        ImageRecord(
            Path(rel if os.path.isabs(rel) else base + rel), label, pid, frame, fmt, metas[mi]
        )
        for rel, label, pid, frame, fmt, mi in data["records"]
    ]
    skipped = [Skipped(Path(p), reason) for p, reason in data["skipped"]]
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
    key = cache.digest(
        str(root), type(reader).__qualname__, reader.scan_token(), tree_fingerprint(root)
    )
    data = cache.load_scan_json(store, key)
    if data is not None:
        try:
            return _from_json(root, data), key
        except (KeyError, TypeError, ValueError, IndexError):
            pass
    scan = pseudonymise(reader.scan(root))
    cache.save_scan_json(store, key, _to_json(scan))
    return scan, key


def check_scan(scan: Scan, *, min_classes: int = 1) -> Scan:
    """Raise a one-line :class:`MedaugError` when ``scan`` has no usable images or fewer
    than ``min_classes`` classes; return it unchanged otherwise."""
    if not scan.records:
        reasons = "; ".join(f"{s.path.name}: {s.reason}" for s in scan.skipped[:3])
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


def scan_dataset(
    root: Path | str,
    *,
    reader: str | Reader = "auto",
    labels: Path | str | None = None,
    label_tag: str | None = None,
    patient_regex: str | None = None,
    cache_dir: Path | str | None = None,
    min_classes: int = 1,
    options: DataOptions | None = None,
    **reader_options: Any,
) -> Scan:
    """List the dataset at ``root`` with the chosen reader; no pixel is decoded.

    ``reader`` is a registered reader name or ``"auto"``; ``labels`` (a CSV),
    ``label_tag`` (a DICOM attribute) and ``patient_regex`` go to the reader along with
    any other ``reader_options``. Raises :class:`MedaugError` for a missing path, no
    class folders, no readable image or fewer than ``min_classes`` classes.
    ``options`` (a :class:`~medaug.data.options.DataOptions`) replaces the reading
    keyword arguments when given.
    """
    if options is not None:
        return scan_dataset(root, min_classes=min_classes, **options.scan_kwargs())
    kwargs = dict(reader_options)
    kwargs.update(labels=labels, label_tag=label_tag, patient_regex=patient_regex)
    _, scan, _ = open_dataset(root, reader=reader, cache_dir=cache_dir, **kwargs)
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
    from medaug.balancing.layout import OutputLayout

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
