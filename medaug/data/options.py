"""Dataset-reading options: the ``load_dataset`` keyword arguments a run was given, and
the part of them that changes what is read (for settings fingerprints)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: options that change only where or how fast data is decoded, never what is read
NOT_READ_SETTINGS: frozenset[str] = frozenset({"cache_dir", "workers", "progress", "min_classes"})


def read_settings(options: Mapping[str, Any]) -> dict[str, Any]:
    """The entries of ``options`` (``load_dataset`` keyword arguments) that change what is
    read, sorted, without defaults (``None``, ``reader="auto"``) so that a run with default
    options fingerprints as before these options existed; ``labels`` as an absolute path."""
    out: dict[str, Any] = {}
    for key in sorted(options):
        value = options[key]
        if key in NOT_READ_SETTINGS or value is None or (key == "reader" and value == "auto"):
            continue
        if key == "labels":
            value = str(Path(value).expanduser().resolve())
        elif isinstance(value, Path):
            value = str(value)
        out[key] = value
    return out


__all__ = ["NOT_READ_SETTINGS", "read_settings"]
