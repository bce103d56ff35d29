"""Named registries of plugin factories (generators, classifiers, readers).

Modelled on timm's ``create_model`` / ``list_models``: names are looked up exactly,
``list(pattern)`` takes fnmatch wildcards, ``None`` options are dropped so each
factory keeps its own defaults, and an unknown name lists what is available.
"""

from __future__ import annotations

import difflib
import fnmatch
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from medaug.errors import DuplicateNameError, UnknownNameError

T = TypeVar("T")

VARIANT_SEPARATOR = ":"


@dataclass(frozen=True)
class Entry(Generic[T]):
    """One registered name."""

    name: str
    kind: str
    factory: Callable[..., T]
    plugin: str
    version: str
    description: str
    variants: bool = False

    @property
    def display_name(self) -> str:
        """``name`` or ``name:<variant>`` for families."""
        return f"{self.name}{VARIANT_SEPARATOR}<variant>" if self.variants else self.name


def _first_doc_line(obj: Any) -> str:
    doc = inspect.getdoc(obj) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


class Registry(Generic[T]):
    """Factories of one kind, keyed by public name."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Entry[T]] = {}

    def add(
        self,
        name: str,
        factory: Callable[..., T],
        *,
        plugin: str,
        version: str = "",
        description: str | None = None,
        variants: bool = False,
    ) -> Entry[T]:
        """Register ``factory`` under ``name``; a name taken twice is an error naming both."""
        if not name or VARIANT_SEPARATOR in name or name != name.strip():
            raise ValueError(f"invalid {self.kind} name {name!r} (plugin {plugin!r})")
        if name in self._entries:
            other = self._entries[name].plugin
            raise DuplicateNameError(
                f"{self.kind} {name!r} is registered twice: by plugin {other!r} "
                f"and by plugin {plugin!r}"
            )
        entry = Entry(
            name=name,
            kind=self.kind,
            factory=factory,
            plugin=plugin,
            version=version,
            description=description if description is not None else _first_doc_line(factory),
            variants=variants,
        )
        self._entries[name] = entry
        return entry

    def __contains__(self, name: object) -> bool:
        try:
            self.get(str(name))
        except UnknownNameError:
            return False
        return True

    def __len__(self) -> int:
        return len(self._entries)

    def entries(self) -> list[Entry[T]]:
        """All entries, sorted by name."""
        return [self._entries[k] for k in sorted(self._entries)]

    def list(self, pattern: str = "*") -> list[str]:
        """Registered names matching the fnmatch ``pattern`` (case-insensitive), sorted."""
        pat = pattern.lower()
        return [
            e.display_name
            for e in self.entries()
            if fnmatch.fnmatch(e.name.lower(), pat) or fnmatch.fnmatch(e.display_name.lower(), pat)
        ]

    def split(self, name: str) -> tuple[Entry[T], str | None]:
        """Resolve ``name`` or ``family:variant`` to its entry and variant."""
        if name in self._entries and not self._entries[name].variants:
            return self._entries[name], None
        family, sep, variant = name.partition(VARIANT_SEPARATOR)
        entry = self._entries.get(family)
        if entry is not None and entry.variants:
            if not sep or not variant:
                raise UnknownNameError(
                    f"{self.kind} {family!r} needs a variant: use '{family}:<variant>'"
                )
            return entry, variant
        if entry is not None and sep:
            raise UnknownNameError(f"{self.kind} {family!r} takes no ':variant' suffix")
        raise UnknownNameError(self._unknown_message(name))

    def get(self, name: str) -> Entry[T]:
        """The entry for ``name`` (a variant name resolves to its family)."""
        return self.split(name)[0]

    def create(self, name: str, **options: Any) -> T:
        """Build the object registered as ``name``; ``None`` options are dropped."""
        entry, variant = self.split(name)
        kwargs = {k: v for k, v in options.items() if v is not None}
        if variant is not None:
            kwargs["variant"] = variant
        return entry.factory(**kwargs)

    def _unknown_message(self, name: str) -> str:
        available = [e.display_name for e in self.entries()]
        msg = f"unknown {self.kind} {name!r}"
        close = difflib.get_close_matches(name, [e.name for e in self.entries()], n=1)
        if close:
            msg += f" (did you mean {close[0]!r}?)"
        listing = ", ".join(available) if available else "none installed"
        return f"{msg}; available: {listing}"
