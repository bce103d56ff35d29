"""How a dataset is read: :class:`DataOptions` (one frozen, typed record every command and
library function passes around), the one ``channels`` parser, and the part of the options
that changes what is read (for settings fingerprints)."""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from medaug.errors import MedaugError

if TYPE_CHECKING:
    from medaug.contracts.reader import Reader

P = ParamSpec("P")
R = TypeVar("R")

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
    """The entries of ``options`` (reading options as keyword arguments,
    :meth:`DataOptions.scan_kwargs`) that change what is read, sorted, without defaults
    (``None``, ``reader="auto"``) so that a run with default options fingerprints as
    before these options existed; ``labels`` as an absolute path."""
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

    ``reader`` is a registered reader name, ``"auto"`` or a reader object (library use).
    ``reader_options`` holds reader-specific options (``id_column``, ``label_column``...)
    as sorted ``(key, value)`` pairs, so the record stays hashable and frozen.
    """

    reader: str | Reader = "auto"
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
        """From the old ``load_dataset`` reading keyword arguments (unknown keys become
        reader options; ``None`` values are defaults)."""
        known = {"reader", "labels", "label_tag", "patient_regex", "cache_dir", "workers"}
        given = {k: v for k, v in (options or {}).items() if v is not None}
        extra = {k: v for k, v in given.items() if k not in known}
        return cls(
            **{k: v for k, v in given.items() if k in known},
            reader_options=tuple(sorted(extra.items())),
        )

    def scan_kwargs(self) -> dict[str, Any]:
        """These options as keyword arguments of the reader resolution
        (:func:`medaug.data.scan.open_dataset`)."""
        return {
            "reader": self.reader,
            "labels": self.labels,
            "label_tag": self.label_tag,
            "patient_regex": self.patient_regex,
            "cache_dir": self.cache_dir,
            **dict(self.reader_options),
        }

    def load_kwargs(self) -> dict[str, Any]:
        """The scan keyword arguments plus ``workers``: the reading keywords
        :func:`medaug.data.load_dataset` took before ``options`` (deprecated there; pass
        ``options=self``)."""
        return {**self.scan_kwargs(), "workers": self.workers}

    def read_settings(self) -> dict[str, Any]:
        """What changes what is read (for fingerprints); see :func:`read_settings`."""
        return read_settings(self.scan_kwargs())


def read_keywords_deprecated(*fields: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Keep the reading keyword arguments a function took before its ``options``
    (``reader=``, ``labels=``... and any reader option) working, deprecated.

    ``fields`` are the :class:`DataOptions` fields the function took as keywords; any other
    keyword it does not take was a reader option. Such keywords are folded into a
    ``DataOptions`` passed as ``options``, with a :class:`DeprecationWarning`; as before,
    they are ignored when ``options`` is given too.
    """

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        accepted = set(inspect.signature(func).parameters)

        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            legacy = {k: kwargs.pop(k) for k in list(kwargs) if k not in accepted}
            if legacy:
                warnings.warn(
                    f"{func.__name__}(): the keyword arguments {', '.join(legacy)} are "
                    "deprecated; pass options=medaug.DataOptions(...) instead (reader "
                    "options go in its reader_options)",
                    DeprecationWarning,
                    stacklevel=2,
                )
                if kwargs.get("options") is None:
                    kwargs["options"] = _legacy_options(legacy, fields)
            return func(*args, **kwargs)

        return wrapper

    return decorate


def _legacy_options(legacy: dict[str, Any], fields: tuple[str, ...]) -> DataOptions:
    """The :class:`DataOptions` of deprecated keyword arguments (``None`` a default, as the
    keywords' defaults were; ``workers`` clamped to 1 as the decoder did)."""
    known = {k: v for k, v in legacy.items() if k in fields and v is not None}
    if "workers" in known:
        known["workers"] = max(1, int(known["workers"]))
    extra = {k: v for k, v in legacy.items() if k not in fields}
    return DataOptions(**known, reader_options=tuple(sorted(extra.items())))


__all__ = [
    "CHANNEL_CHOICES",
    "NOT_READ_SETTINGS",
    "DataOptions",
    "parse_channels",
    "read_keywords_deprecated",
    "read_settings",
]
