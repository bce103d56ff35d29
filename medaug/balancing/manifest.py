"""``manifest.csv``: one row per output file, real or synthetic, with its provenance."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from medaug.atomic import atomic_write_text


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

    @classmethod
    def columns(cls) -> list[str]:
        """CSV header; ``label`` is written as ``class``."""
        return ["class" if f.name == "label" else f.name for f in fields(cls)]


def write_manifest(path: Path, rows: Iterable[ManifestRow]) -> int:
    """Write ``rows`` (sorted by path) atomically; return the row count."""
    ordered = sorted(rows, key=lambda r: r.path)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(ManifestRow.columns())
    for row in ordered:
        writer.writerow(list(asdict(row).values()))
    atomic_write_text(path, buf.getvalue())
    return len(ordered)


def read_manifest(path: Path) -> list[ManifestRow]:
    """Rows of an existing manifest (empty when the file does not exist)."""
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        return [
            ManifestRow(**{("label" if k == "class" else k): v for k, v in rec.items()})
            for rec in reader
        ]
