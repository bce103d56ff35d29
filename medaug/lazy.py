"""Lazy package exports (PEP 562): a package names what it offers, and each name is
imported from its module on first use, so ``import medaug`` and ``medaug --help`` do not
pay for torch."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(
    package: str, exports: Mapping[str, str], namespace: dict[str, Any], *, cache: bool = True
) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``: ``name`` comes from its module in
    ``exports`` (a module of ``package``, or a full ``medaug.`` name), imported on first
    use and, with ``cache``, kept in ``namespace`` (the package's ``globals()``)."""

    def __getattr__(name: str) -> Any:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = exports[name]
        if not module.startswith("medaug."):
            module = f"{package}.{module}"
        value = getattr(importlib.import_module(module), name)
        if cache:
            namespace[name] = value
        return value

    return __getattr__


__all__ = ["lazy_exports"]
