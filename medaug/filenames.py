"""File names the file system takes: the length limit and the one way medaug cuts a
longer name to fit (output files, temporary files)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

#: the longest file name (bytes) most file systems take
NAME_MAX = 255


def fit_name(name: str, limit: int = NAME_MAX) -> str:
    """``name`` unchanged when it takes at most ``limit`` bytes, else cut to fit with a
    short digest of the whole name before its suffix (``<start>~<digest>.png``), so
    that two long names that share a start stay apart. The same name always gives the
    same result."""
    raw = os.fsencode(name)
    if len(raw) <= limit:
        return name
    suffix = Path(name).suffix if len(Path(name).suffix) <= 16 else ""
    digest = hashlib.blake2b(raw, digest_size=6).hexdigest()
    room = limit - len(os.fsencode(suffix)) - len(digest) - 1
    stem = os.fsencode(name[: len(name) - len(suffix)])[:room]
    return f"{stem.decode('utf-8', 'ignore')}~{digest}{suffix}"


__all__ = ["NAME_MAX", "fit_name"]
