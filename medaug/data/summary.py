"""What ``medaug inspect`` reports: counts, imbalance, patients, sizes, skipped files,
files with the same bytes, and the plan ``balance`` would make with the default
strategy."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from medaug.contracts.reader import ImageRecord, Skipped
from medaug.data.duplicates import find_duplicates
from medaug.data.names import printable
from medaug.data.options import DataOptions

DEFAULT_STRATEGY = "auto"


def balance_plan(counts: Mapping[str, int]) -> dict[str, int]:
    """Synthetic images per class under the default strategy (``auto`` = not majority:
    every class but the majority is brought up to the majority count)."""
    from medaug.output.strategy import resolve_targets

    return dict(resolve_targets(dict(counts), DEFAULT_STRATEGY))


def relative_name(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` (POSIX) for reports, printable on one line (a name
    that is not UTF-8 shows its bytes as ``\\xe9``); absolute when outside ``root``."""
    try:
        return printable(path.relative_to(root).as_posix())
    except ValueError:
        return printable(path)


def summarize(
    root: Path,
    records: Sequence[ImageRecord],
    skipped: Sequence[Skipped],
    *,
    reader: str = "",
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The inspect report as a JSON-ready dict (``classes``, ``imbalance_ratio``,
    ``skipped`` ... see ``docs/data.md``)."""
    counts = dict(sorted(Counter(r.label for r in records).items()))
    total = sum(counts.values())
    majority = max(counts, key=lambda c: counts[c]) if counts else None
    minority = min(counts, key=lambda c: counts[c]) if counts else None
    ratio = (
        counts[majority] / counts[minority] if majority and minority and counts[minority] else None
    )
    patients: dict[str, set[str]] = {c: set() for c in counts}
    for r in records:
        patients[r.label].add(r.patient_id)
    sizes = Counter(f"{r.meta.get('width', '?')}x{r.meta.get('height', '?')}" for r in records)
    modes = Counter(str(r.meta.get("mode", "?")) for r in records)
    plan = balance_plan(counts) if len(counts) > 1 else {}
    out: dict[str, Any] = {
        "root": str(root),
        "reader": reader,
        "classes": counts,
        "total": total,
        "share": {c: round(n / total, 4) for c, n in counts.items()} if total else {},
        "imbalance_ratio": round(ratio, 4) if ratio is not None else None,
        "majority": majority,
        "minority": minority,
        "patients": {c: len(p) for c, p in patients.items()},
        "sizes": dict(sizes.most_common()),
        "modes": dict(modes.most_common()),
        "source_format": "dicom"
        if records and all(r.format == "dicom" for r in records)
        else "image",
        "skipped": [{"path": relative_name(s.path, root), "reason": s.reason} for s in skipped],
        "duplicates": [
            {"files": [relative_name(p, root) for p in d.files], "classes": list(d.labels)}
            for d in find_duplicates(records)
        ],
        "plan": {
            "strategy": f"{DEFAULT_STRATEGY} (not majority)",
            "add": plan,
            "after": {c: n + plan.get(c, 0) for c, n in counts.items()},
        },
    }
    if extra:
        out.update(extra)
    return out


def inspect_dataset(
    root: Path | str,
    *,
    quick: bool = False,
    image_size: int = 64,
    channels: int | str = "auto",
    options: DataOptions | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """What ``medaug inspect`` reports for ``root``: a scan only (``quick``), or a full
    decode at ``image_size`` (which fills the decode cache and finds undecodable files)."""
    from medaug.data.dataset import load_dataset
    from medaug.data.scan import scan_dataset

    if quick:
        scan = scan_dataset(root, min_classes=2, options=options or DataOptions())
        return summarize(scan.root, scan.records, scan.skipped, reader=scan.reader)
    ds = load_dataset(
        root,
        image_size=image_size,
        channels=channels,
        progress=progress,
        min_classes=2,
        options=options or DataOptions(),
    )
    return summarize(
        ds.root,
        ds.records,
        ds.skipped,
        reader=ds.reader,
        extra={"channels": ds.channels, "bit_depth": ds.bit_depth, "image_size": ds.image_size},
    )
