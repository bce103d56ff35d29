"""``manifest.csv``: one row per output file, real or synthetic, with its provenance.

The file is RFC 4180 CSV (CRLF line ends, so a field holding a carriage return or a
line feed is quoted and reads back whole). A text that a spreadsheet would run as a
formula (it starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return: a class
named ``=cmd|calc``) is written with a leading ``'``, as OWASP advises; so is a text
that starts with ``'``, so that :func:`read_manifest` gives back every value exactly.
Numbers (``-0.5``) are left as they are.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from medaug.atomic import atomic_write_text
from medaug.output.layout import MANIFEST_NAME


@dataclass(frozen=True)
class ManifestRow:
    """Provenance of one output file; ``path`` is relative to the output folder (POSIX)."""

    path: str
    label: str
    source: str  # "real" | "synthetic"
    original_path: str = ""  # real files: where it came from
    generator: str = ""
    generator_options: str = ""  # JSON
    seed: str = ""
    checkpoint_sha256: str = ""
    medaug_version: str = ""
    created: str = ""  # ISO 8601 UTC
    #: synthetic files: the curation policy that kept them (empty: all were kept)
    curation: str = ""

    @classmethod
    def columns(cls) -> list[str]:
        """CSV header; ``label`` is written as ``class``."""
        return ["class" if f.name == "label" else f.name for f in fields(cls)]


#: first characters that make a spreadsheet read a cell as a formula
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ESCAPE = "'"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def escape_cell(text: str) -> str:
    """``text`` safe to open in a spreadsheet: a formula-like text gets a leading ``'``
    (and so does a text starting with ``'``, to keep the escape reversible)."""
    if text.startswith(ESCAPE) or (text.startswith(FORMULA_STARTS) and not _is_number(text)):
        return ESCAPE + text
    return text


def unescape_cell(text: str) -> str:
    """The value :func:`escape_cell` was given."""
    return text[len(ESCAPE) :] if text.startswith(ESCAPE) else text


def write_manifest(path: Path, rows: Iterable[ManifestRow]) -> int:
    """Write ``rows`` (sorted by path) atomically; return the row count."""
    ordered = sorted(rows, key=lambda r: r.path)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(ManifestRow.columns())
    for row in ordered:
        writer.writerow([escape_cell(str(v)) for v in asdict(row).values()])
    atomic_write_text(path, buf.getvalue())
    return len(ordered)


def read_manifest(path: Path) -> list[ManifestRow]:
    """Rows of an existing manifest (empty when the file does not exist)."""
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        return [
            ManifestRow(
                **{("label" if k == "class" else k): unescape_cell(v) for k, v in rec.items()}
            )
            for rec in reader
        ]


def synthetic_files(data_root: Path) -> frozenset[Path]:
    """The synthetic images (resolved paths) of the balance output that ``data_root`` is
    (``OUT``) or lies in (``OUT/dataset``), from its manifest; empty without one."""
    for out in (data_root, data_root.parent):
        rows = read_manifest(out / MANIFEST_NAME)
        if rows:
            return frozenset((out / r.path).resolve() for r in rows if r.source == "synthetic")
    return frozenset()
