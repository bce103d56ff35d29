"""Class names: validate labels and turn them into safe output folder names.

Labels may contain spaces, unicode and even ``/`` (the RSNA class
``"No Lung Opacity / Not Normal"``), but a label that would escape an output folder
(``..``, an absolute path, control characters) or that is not valid UTF-8 (a folder
name in Latin-1 from an old PACS export) is rejected with a clear error, and
:func:`class_folder_name` gives the single path component writers must use.

Python gives a file name that is not valid UTF-8 as a string with surrogate escapes
(``b"caf\xe9"`` -> ``"caf\udce9"``), which cannot be written to any text file.
:func:`is_utf8` tells them apart and :func:`printable` shows any name or path in one
line (``caf\xe9``) without failing.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from medaug.errors import MedaugError
from medaug.filenames import fit_name

_SEPARATORS = re.compile(r"[\\/]+")
_DRIVE = re.compile(r"^[A-Za-z]:")


def _has_control(name: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cf") for ch in name)


def is_utf8(name: str | Path) -> bool:
    """Whether ``name`` (a file name or path as the OS gave it) is valid UTF-8 text: no
    surrogate escapes of undecodable bytes."""
    try:
        str(name).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def printable(name: str | Path) -> str:
    """``name`` for messages and reports: undecodable bytes as ``\\xe9``, control
    characters (a carriage return...) as escapes, so that it prints on one line."""
    text = os.fsencode(str(name)).decode("utf-8", "backslashreplace")
    if not _has_control(text):
        return text
    return "".join(
        ch.encode("unicode_escape").decode("ascii") if unicodedata.category(ch) == "Cc" else ch
        for ch in text
    )


NOT_UTF8 = "name is not valid UTF-8 (rename it, e.g. with convmv -f latin1 -t utf8)"


def validate_class_name(name: str, *, source: str = "class name") -> str:
    """Return ``name`` unchanged, or raise :class:`MedaugError` when it is empty, ``.``
    or ``..``, absolute (``/x``, ``C:\\x``, ``\\\\server``), has a ``..`` component,
    contains control characters or is not valid UTF-8. ``source`` says where the name
    came from."""
    if not isinstance(name, str) or not name.strip():
        raise MedaugError(f"{source} {name!r} is empty")
    if not is_utf8(name):
        raise MedaugError(f"{source} '{printable(name)}': {NOT_UTF8}")
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
    by ``_`` (``"No Lung Opacity / Not Normal"`` -> ``"No Lung Opacity _ Not Normal"``),
    cut to the file-name limit (:func:`fit_name`) when longer."""
    validate_class_name(name)
    folder = fit_name(_SEPARATORS.sub("_", name).strip())
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
