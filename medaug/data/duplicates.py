"""Files with the same bytes: the same image in two classes (a labelling error that
leaks between classes) or twice in one (it counts double).

Files are grouped by size first, from one ``stat`` each; only files that share a size
are read, and hashed (BLAKE2b, :func:`hashlib.file_digest`), so a dataset of distinct JPEGs or
DICOM files costs one ``stat`` per file. Nothing is written.
"""

from __future__ import annotations

import hashlib
import os
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from medaug.contracts.reader import ImageRecord


@dataclass(frozen=True)
class Duplicate:
    """Files holding the same bytes, with the class each was labelled."""

    files: tuple[Path, ...]
    labels: tuple[str, ...]


def _digest(path: Path) -> str | None:
    try:
        with open(path, "rb") as fh:
            return hashlib.file_digest(fh, lambda: hashlib.blake2b(digest_size=20)).hexdigest()
    except OSError:
        return None


def identical_files(paths: Iterable[Path]) -> list[list[Path]]:
    """Groups (two or more files each) of ``paths`` with the same bytes, in the order of
    ``paths``; unreadable files are left out."""
    unique = list(dict.fromkeys(paths))
    by_size: dict[int, list[Path]] = defaultdict(list)
    for path in unique:
        try:
            by_size[os.stat(path).st_size].append(path)
        except OSError:
            continue
    groups: list[list[Path]] = []
    for same_size in by_size.values():
        if len(same_size) < 2:
            continue
        by_digest: dict[str, list[Path]] = defaultdict(list)
        for path in same_size:
            digest = _digest(path)
            if digest is not None:
                by_digest[digest].append(path)
        groups += [g for g in by_digest.values() if len(g) > 1]
    order = {p: i for i, p in enumerate(unique)}
    return sorted(groups, key=lambda g: order[g[0]])


def find_duplicates(records: Sequence[ImageRecord]) -> list[Duplicate]:
    """The records' files that hold the same bytes (the frames of one multi-frame file
    are one file)."""
    label = {r.path: r.label for r in records}
    return [
        Duplicate(tuple(group), tuple(label[p] for p in group))
        for group in identical_files(r.path for r in records)
    ]


def describe(labels: Sequence[str], names: Sequence[str]) -> str:
    """One warning line for files with the same bytes, labelled ``labels`` and shown as
    ``names``."""
    files = ", ".join(names)
    classes = list(dict.fromkeys(labels))
    if len(classes) > 1:
        return f"the same image is in several classes ({', '.join(classes)}): {files}"
    return f"the same image is {len(names)} times in class {classes[0]!r}: {files}"


__all__ = ["Duplicate", "describe", "find_duplicates", "identical_files"]
