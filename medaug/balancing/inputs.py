"""What ``balance`` says about its input files: the names the real files get in OUT, the
files it skipped and the files that hold the same bytes.

With ``--link copy-deidentified`` no input file name reaches OUT: the real files are
named ``real_<n>.<suffix>`` (their names are often the PatientID), the manifest leaves
``original_path`` empty, and the report and run record count the skipped files by
reason without naming them; files with the same bytes are named by their place in OUT.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from medaug.contracts.reader import ImageRecord, Skipped
from medaug.data.duplicates import describe, find_duplicates
from medaug.data.summary import relative_name
from medaug.filenames import fit_name

#: shown instead of a skipped file's name in de-identified output
WITHHELD = "names withheld (--link copy-deidentified)"


def _known_suffixes() -> frozenset[str]:
    """The file suffixes some installed reader reads (``.png``, ``.dcm``...)."""
    from medaug.plugins import registry

    found: set[str] = set()
    for entry in registry("reader").entries():
        try:
            found |= set(entry.attribute("suffixes", ()))
        except Exception:  # a reader whose factory does not import: it names none
            continue
    return frozenset(found)


def neutral_names(records: Sequence[ImageRecord]) -> dict[Path, str]:
    """``real_00001.dcm``, ``real_00002.dcm``... in record order: nothing of the input
    name is kept but a suffix some reader knows (``.dcm`` for DICOM without one)."""
    known = _known_suffixes()
    names: dict[Path, str] = {}
    for rec in records:
        if rec.path in names:
            continue  # another frame of a multi-frame file
        suffix = rec.path.suffix.lower()
        if suffix not in known:
            suffix = ".dcm" if rec.format == "dicom" else ""
        names[rec.path] = f"real_{len(names) + 1:05d}{suffix}"
    return names


def real_names(
    records: Sequence[ImageRecord], data_root: Path, *, neutral: bool = False
) -> dict[Path, str]:
    """A unique output file name for every real file of one class: its own name
    (prefixed ``real_`` when it looks like medaug's, made unique when two folders hold
    the same name, cut to the file-name limit), or with ``neutral`` one that keeps
    nothing of it (:func:`neutral_names`)."""
    if neutral:
        return neutral_names(records)
    names: dict[Path, str] = {}
    taken: set[str] = set()
    for rec in records:
        if rec.path in names:
            continue  # another frame of a multi-frame file
        name = rec.path.name
        if name.startswith(("synthetic_", ".")):
            name = "real_" + name.lstrip(".")
        if fit_name(name).casefold() in taken:
            try:
                rel = rec.path.relative_to(data_root)
            except ValueError:
                rel = Path(*rec.path.parts[-3:])
            name = "__".join(rel.parts)
        base, n = name, 1
        while fit_name(name).casefold() in taken:
            name = f"{n}_{base}"
            n += 1
        name = fit_name(name)
        taken.add(name.casefold())
        names[rec.path] = name
    return names


def reason_kind(reason: str) -> str:
    """A skip reason without its details (which may quote a file name or an id):
    ``"corrupt DICOM file (InvalidDicomError: ...)"`` -> ``"corrupt DICOM file"``."""
    return re.split(r"[:(]", reason, maxsplit=1)[0].strip() or "skipped"


def skipped_inputs(skipped: Sequence[Skipped], root: Path, *, named: bool) -> dict[str, Any]:
    """The skipped input files for the summary and the report: their count, the count per
    reason and, when ``named``, each file (relative to ``root``) with its reason (else
    ``withheld`` says why they are not named)."""
    if not named:
        kinds = Counter(reason_kind(s.reason) for s in skipped)
        return {"count": len(skipped), "reasons": dict(kinds.most_common()), "withheld": WITHHELD}
    reasons = Counter(s.reason for s in skipped)
    return {
        "count": len(skipped),
        "reasons": dict(reasons.most_common()),
        "files": [{"path": relative_name(s.path, root), "reason": s.reason} for s in skipped],
    }


def skipped_line(skipped: dict[str, Any], limit: int = 3) -> str | None:
    """One line about the skipped input files (the commonest reasons), or ``None``."""
    if not skipped.get("count"):
        return None
    reasons = list(skipped["reasons"].items())
    shown = "; ".join(f"{reason} ({n})" for reason, n in reasons[:limit])
    more = f"; {len(reasons) - limit} more reasons" if len(reasons) > limit else ""
    return f"skipped {skipped['count']} input file(s): {shown}{more}"


def duplicate_warnings(records: Sequence[ImageRecord], name: Callable[[Path], str]) -> list[str]:
    """One warning per group of input files with the same bytes, each file shown as
    ``name(path)``."""
    return [describe(dup.labels, [name(p) for p in dup.files]) for dup in find_duplicates(records)]


__all__ = [
    "WITHHELD",
    "duplicate_warnings",
    "neutral_names",
    "real_names",
    "reason_kind",
    "skipped_inputs",
    "skipped_line",
]
