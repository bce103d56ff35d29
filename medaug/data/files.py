"""Walking a dataset folder: which entries are ignored, and why.

Readers share these rules so that ``__MACOSX``, ``Thumbs.db`` and hidden files are
treated alike everywhere. Nothing here opens a file for writing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from medaug.errors import MedaugError

IGNORED_DIRS = frozenset({"__MACOSX", "@eaDir", "$RECYCLE.BIN", "System Volume Information"})
IGNORED_FILES = frozenset({"thumbs.db", "desktop.ini", ".ds_store", "ehthumbs.db"})
#: a file medaug puts in the non-class folders it writes (``report/``, ``checkpoints/``), so
#: that a balanced output folder reads back as a dataset with only its classes
NOT_A_CLASS_MARKER = ".medaug-not-a-class"


def ignore_reason(name: str, *, is_dir: bool = False, parent: Path | None = None) -> str | None:
    """Why a directory entry is ignored (hidden, OS metadata, a medaug report or checkpoint
    folder), or ``None`` to keep it. ``parent`` is the folder holding the entry."""
    if is_dir and name in IGNORED_DIRS:
        return f"{name} folder (OS metadata)"
    if is_dir and parent is not None and (parent / name / NOT_A_CLASS_MARKER).is_file():
        return "medaug output folder (report or checkpoints), not a class"
    if name.lower() in IGNORED_FILES:
        return "OS thumbnail/metadata file"
    if name.startswith("._"):
        return "macOS resource fork"
    if name.startswith("."):
        return "hidden folder" if is_dir else "hidden file"
    return None


def require_dir(root: Path | str) -> Path:
    """``root`` as an absolute :class:`Path`; a missing path or a file is an error."""
    path = Path(root).expanduser()
    if not path.exists():
        raise MedaugError(f"dataset path {str(path)!r} does not exist")
    if not path.is_dir():
        raise MedaugError(f"dataset path {str(path)!r} is not a folder")
    return path.resolve()


def walk_files(top: Path) -> Iterator[tuple[Path, str | None]]:
    """Every file under ``top`` (sorted, recursive, symlinks to dirs not followed) with
    the reason it is ignored or ``None``. Ignored folders are reported once, not entered."""
    try:
        entries = sorted(os.scandir(top), key=lambda e: e.name)
    except OSError as exc:
        yield top, f"cannot list folder: {exc.strerror or exc}"
        return
    for entry in entries:
        path = Path(entry.path)
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
        except OSError:
            is_dir = False
        reason = ignore_reason(entry.name, is_dir=is_dir, parent=top)
        if is_dir:
            if reason:
                yield path, reason
            else:
                yield from walk_files(path)
        else:
            yield path, reason


def tree_fingerprint(top: Path) -> str:
    """A digest of ``(relative path, size, mtime_ns)`` of every entry under ``top``: any
    change to the tree (a file added, removed, rewritten) changes it. Used to reuse
    cached scans and decoded images without looking at each file again."""
    import hashlib

    entries: list[str] = []
    base = str(top)
    cut = len(base) + 1
    stack = [base]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                listing = list(it)
        except OSError:
            continue
        for entry in listing:
            try:
                st = entry.stat()
                is_dir = entry.is_dir()
            except OSError:
                continue
            rel = entry.path[cut:]
            if is_dir:
                entries.append(f"{rel}/\0{st.st_mtime_ns}")
                stack.append(entry.path)
            else:
                entries.append(f"{rel}\0{st.st_size}\0{st.st_mtime_ns}")
    entries.sort()
    return hashlib.blake2b(
        "\n".join(entries).encode("utf-8", "surrogateescape"), digest_size=16
    ).hexdigest()
