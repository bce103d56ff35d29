"""Class names: validate labels and turn them into safe output folder names.

Labels may contain spaces, unicode and even ``/`` (the RSNA class
``"No Lung Opacity / Not Normal"``), but a label that would escape an output folder
(``..``, an absolute path, control characters) is rejected with a clear error, and
:func:`class_folder_name` gives the single path component writers must use.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from medaug.errors import MedaugError

_SEPARATORS = re.compile(r"[\\/]+")
_DRIVE = re.compile(r"^[A-Za-z]:")


def _has_control(name: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cf") for ch in name)


def validate_class_name(name: str, *, source: str = "class name") -> str:
    """Return ``name`` unchanged, or raise :class:`MedaugError` when it is empty, ``.``
    or ``..``, absolute (``/x``, ``C:\\x``, ``\\\\server``), has a ``..`` component or
    contains control characters. ``source`` says where the name came from."""
    if not isinstance(name, str) or not name.strip():
        raise MedaugError(f"{source} {name!r} is empty")
    if _has_control(name):
        raise MedaugError(f"{source} {name!r} contains control characters")
    if name.startswith(("/", "\\")) or _DRIVE.match(name):
        raise MedaugError(f"{source} {name!r} is an absolute path; class names must be relative")
    parts = [p.strip() for p in _SEPARATORS.split(name)]
    if any(p in (".", "..") for p in parts):
        raise MedaugError(
            f"{source} {name!r} contains '.' or '..' and would escape the output folder"
        )
    return name


def class_folder_name(name: str) -> str:
    """The one safe folder name for class ``name``: validated, path separators replaced
    by ``_`` (``"No Lung Opacity / Not Normal"`` -> ``"No Lung Opacity _ Not Normal"``)."""
    validate_class_name(name)
    folder = _SEPARATORS.sub("_", name).strip()
    if folder in (".", ".."):
        raise MedaugError(f"class name {name!r} cannot be used as a folder name")
    return folder


def class_folder_names(names: Iterable[str]) -> dict[str, str]:
    """:func:`class_folder_name` for every class; two classes mapping to one folder
    (``a/b`` and ``a_b``) is an error."""
    out: dict[str, str] = {}
    seen: dict[str, str] = {}
    for name in names:
        folder = class_folder_name(name)
        key = folder.casefold()
        if key in seen and seen[key] != name:
            raise MedaugError(
                f"classes {seen[key]!r} and {name!r} would share the output folder {folder!r}"
            )
        seen[key] = name
        out[name] = folder
    return out
