"""Choosing and building a reader: by name, or ``"auto"`` among every registered one.

``reader="auto"`` asks each registered reader that accepts the given options for its
:meth:`~medaug.contracts.reader.Reader.can_read` confidence and takes the highest
(ties go to registry order). Third-party readers take part by defining ``can_read``.
Options flow to the factory through :func:`medaug.create_reader` (``None`` dropped).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from medaug.contracts.reader import Reader
from medaug.errors import MedaugError
from medaug.plugins import create_reader, registry
from medaug.registry import option_problem


def _accepts(factory: Any, options: dict[str, Any]) -> bool:
    return option_problem(factory, options) is None


def resolve_reader(root: Path, reader: str | Reader = "auto", **options: Any) -> tuple[str, Reader]:
    """The ``(name, reader)`` to use for ``root``. ``reader`` is a registered name, an
    instance (used as is) or ``"auto"``. ``None`` options are dropped."""
    opts = {k: v for k, v in options.items() if v is not None}
    if isinstance(reader, Reader):
        return type(reader).__name__, reader
    if reader != "auto":
        return reader, create_reader(reader, **opts)
    best: tuple[float, str] | None = None
    fallback: str | None = None
    for entry in registry("reader").entries():
        factory = entry.factory
        if not _accepts(factory, opts):
            continue
        can_read = getattr(factory, "can_read", None)
        try:
            score = float(can_read(root, **opts)) if callable(can_read) else 0.0
        except Exception:
            score = 0.0
        if fallback is None:
            fallback = entry.name
        if score > 0 and (best is None or score > best[0]):
            best = (score, entry.name)
    if best is not None:
        return best[1], create_reader(best[1], **opts)
    available = ", ".join(registry("reader").list()) or "none installed"
    given = f" with options {', '.join(sorted(opts))}" if opts else ""
    if fallback is None:
        raise MedaugError(
            f"no installed reader accepts the options given{given}; readers: {available}"
        )
    raise MedaugError(
        f"no reader recognises {str(root)!r}{given}: expected class folders "
        f"(ROOT/<class>/<image>) or DICOM files with --labels/--label-tag; readers: {available}"
    )
