"""Atomic file writes: the one helper every medaug writer uses.

A file is written to a hidden temporary sibling (``.medaug-tmp-<pid>-<name>``), flushed
to disk, then renamed over its final name with :func:`os.replace`. A crash or ``kill -9``
leaves at worst such a temporary file (removed by :func:`remove_stale_tmp` when a run
resumes); the final path is either absent, the old version, or complete.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from medaug.errors import MedaugError

TMP_PREFIX = ".medaug-tmp-"


def tmp_path_for(path: Path) -> Path:
    """Hidden sibling used while ``path`` is being written."""
    return path.with_name(f"{TMP_PREFIX}{os.getpid()}-{path.name}")


#: torch.save's errors when the file cannot be written whole (a full disk, a quota)
_SHORT_WRITE = ("unexpected pos", "failed writing", "file write failed")


def _out_of_space(exc: BaseException, folder: Path) -> bool:
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    if isinstance(exc, RuntimeError) and any(m in str(exc) for m in _SHORT_WRITE):
        try:
            return shutil.disk_usage(folder).free < 64 * 2**20 or "unexpected pos" in str(exc)
        except OSError:
            return True
    return False


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary sibling of ``path``; on success it replaces ``path`` atomically.

    A full disk (``ENOSPC``, or torch's short-write errors) becomes one
    :class:`~medaug.errors.MedaugError` saying so; ``path`` keeps its previous version.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp_path_for(path)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except (OSError, RuntimeError) as exc:
        if _out_of_space(exc, path.parent):
            raise MedaugError(
                f"no space left on the disk of {path.parent} while writing {path.name}: "
                "free space and rerun with --resume"
            ) from exc
        raise
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, data: Any) -> None:
    """Write ``data`` as indented JSON to ``path`` atomically (unknown types as ``str``)."""
    atomic_write_text(path, json.dumps(data, indent=2, default=str) + "\n")


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


__all__ = [
    "TMP_PREFIX",
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "remove_stale_tmp",
    "tmp_path_for",
]
