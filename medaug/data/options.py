"""How a dataset is read: :class:`DataOptions` (one frozen, typed record every command and
library function passes around), the one ``channels`` parser, and the part of the options
that changes what is read (for settings fingerprints)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medaug.errors import MedaugError

#: options that change only where or how fast data is decoded, never what is read
NOT_READ_SETTINGS: frozenset[str] = frozenset({"cache_dir", "workers", "progress", "min_classes"})

CHANNEL_CHOICES = ("auto", "1", "3")


def parse_channels(channels: int | str | None) -> int | None:
    """``1``/``3`` (int or string) -> that int; ``"auto"`` or ``None`` -> ``None``."""
    text = "auto" if channels is None else str(channels).strip().lower()
    if text == "auto":
        return None
    if text in ("1", "3"):
        return int(text)
    raise MedaugError(f"invalid channels {channels!r}: expected 1, 3 or auto")


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


@dataclass(frozen=True)
class DataOptions:
    """How to read a dataset, the same for every command: reader, labels, patient ids,
    cache and decode workers. Build it once (the CLI's dataset options do), pass it on.

    ``reader_options`` holds reader-specific options (``id_column``, ``label_column``...)
    as sorted ``(key, value)`` pairs, so the record stays hashable and frozen.
    """

    reader: str = "auto"
    labels: Path | None = None
    label_tag: str | None = None
    patient_regex: str | None = None
    reader_options: tuple[tuple[str, Any], ...] = field(default_factory=tuple)
    cache_dir: Path | None = None
    workers: int | None = None

    def __post_init__(self) -> None:
        if self.labels is not None and not isinstance(self.labels, Path):
            object.__setattr__(self, "labels", Path(self.labels))
        if self.cache_dir is not None and not isinstance(self.cache_dir, Path):
            object.__setattr__(self, "cache_dir", Path(self.cache_dir))
        if isinstance(self.reader_options, Mapping):
            object.__setattr__(self, "reader_options", tuple(sorted(self.reader_options.items())))
        if self.workers is not None and self.workers < 1:
            raise MedaugError(f"workers must be >= 1, got {self.workers}")

    @classmethod
    def from_kwargs(cls, options: Mapping[str, Any] | None = None) -> DataOptions:
        """From ``load_dataset``-style keyword arguments (unknown keys become reader
        options; ``None`` values are defaults)."""
        known = {"reader", "labels", "label_tag", "patient_regex", "cache_dir", "workers"}
        given = {k: v for k, v in (options or {}).items() if v is not None}
        extra = {k: v for k, v in given.items() if k not in known}
        return cls(
            **{k: v for k, v in given.items() if k in known},
            reader_options=tuple(sorted(extra.items())),
        )

    def scan_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of :func:`medaug.data.scan_dataset`."""
        return {
            "reader": self.reader,
            "labels": self.labels,
            "label_tag": self.label_tag,
            "patient_regex": self.patient_regex,
            "cache_dir": self.cache_dir,
            **dict(self.reader_options),
        }

    def load_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of :func:`medaug.data.load_dataset` (scan ones plus workers)."""
        return {**self.scan_kwargs(), "workers": self.workers}

    def read_settings(self) -> dict[str, Any]:
        """What changes what is read (for fingerprints); see :func:`read_settings`."""
        return read_settings(self.scan_kwargs())


__all__ = ["CHANNEL_CHOICES", "NOT_READ_SETTINGS", "DataOptions", "parse_channels", "read_settings"]
