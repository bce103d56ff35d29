"""Small filesystem helpers: atomic writes, hashing, linking real files."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

from medaug.errors import MedaugError

LINK_MODES = ("hardlink", "symlink", "copy")
TMP_PREFIX = ".medaug-tmp-"


def tmp_path_for(path: Path) -> Path:
    """Hidden sibling used while ``path`` is being written."""
    return path.with_name(f"{TMP_PREFIX}{os.getpid()}-{path.name}")


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary sibling of ``path``; on success it replaces ``path`` atomically.

    A crash (or kill -9) leaves at worst a hidden ``.medaug-tmp-*`` file, which
    :func:`remove_stale_tmp` deletes when a run resumes; ``path`` itself is either absent
    or complete.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp_path_for(path)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def remove_stale_tmp(root: Path) -> int:
    """Delete leftovers of interrupted atomic writes under ``root``; return how many."""
    removed = 0
    if not root.exists():
        return 0
    for p in root.rglob(f"{TMP_PREFIX}*"):
        if p.is_file() or p.is_symlink():
            p.unlink()
            removed += 1
    return removed


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def link_file(src: Path, dst: Path, mode: str) -> str:
    """Put ``src`` at ``dst`` by ``mode`` (hardlink falls back to a copy across devices).

    Returns the method really used. ``dst`` appears atomically; an existing ``dst`` is
    replaced.
    """
    if mode not in LINK_MODES:
        raise MedaugError(f"invalid link mode {mode!r}: expected {'|'.join(LINK_MODES)}")
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp_path_for(dst)
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    used = mode
    actions: dict[str, Callable[[], object]] = {
        "hardlink": lambda: os.link(src, tmp),
        "symlink": lambda: os.symlink(src.resolve(), tmp),
        "copy": lambda: shutil.copy2(src, tmp),
    }
    try:
        actions[mode]()
    except OSError as exc:
        if mode != "hardlink" or exc.errno not in (
            errno.EXDEV,
            errno.EPERM,
            errno.EMLINK,
            errno.ENOTSUP,
            errno.EACCES,
        ):
            raise MedaugError(f"cannot {mode} {src} to {dst}: {exc.strerror or exc}") from exc
        shutil.copy2(src, tmp)
        used = "copy"
    os.replace(tmp, dst)
    return used


def tree_contains(parent: Path, child: Path) -> bool:
    """Whether ``child`` is ``parent`` or lies inside it (after resolving links)."""
    p, c = parent.resolve(), child.resolve()
    return c == p or p in c.parents
