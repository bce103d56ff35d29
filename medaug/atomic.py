"""Atomic file writes: the one helper every medaug writer uses.

A file is written to a hidden temporary sibling (``.medaug-tmp-<pid>-<name>``), flushed
to disk, then renamed over its final name with :func:`os.replace`. A crash or ``kill -9``
leaves at worst such a temporary file (removed by :func:`remove_stale_tmp` when a run
resumes); the final path is either absent, the old version, or complete.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

from medaug.errors import ConfigError, MedaugError
from medaug.filenames import NAME_MAX

TMP_PREFIX = ".medaug-tmp-"
#: the advice after a failed write outside any claimed output folder
DEFAULT_RERUN = "run the same command again"


class WriteGuard(Protocol):
    """What every write asks first: :mod:`medaug.output.ownership` installs its claims
    (:func:`set_write_guard`), so that a path inside a claimed output folder is recorded
    in its marker before it is written, and a failed write gives that command's advice."""

    def admit(self, path: Path) -> None: ...

    def rerun_hint(self, path: Path) -> str: ...


_guard: WriteGuard | None = None


def set_write_guard(guard: WriteGuard | None) -> None:
    """Install ``guard`` for every write of this process (``None``: none)."""
    global _guard
    _guard = guard


def tmp_path_for(path: Path) -> Path:
    """Hidden sibling used while ``path`` is being written. A name too long for the
    prefix (a 245-character file name) is replaced by its digest, so the temporary name
    still fits the file system's limit."""
    name = f"{TMP_PREFIX}{os.getpid()}-{path.name}"
    if len(os.fsencode(name)) > NAME_MAX:
        digest = hashlib.blake2b(os.fsencode(path.name), digest_size=8).hexdigest()
        name = f"{TMP_PREFIX}{os.getpid()}-{digest}"
    return path.with_name(name)


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
    :class:`~medaug.errors.MedaugError` saying so and what to do (the advice of the
    command whose output folder holds ``path``); ``path`` keeps its previous version.
    Inside a claimed output folder, ``path`` is recorded in its marker first
    (:mod:`medaug.output.ownership`).
    """
    path = Path(path)
    if _guard is not None:
        _guard.admit(path)
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
                f"free space and {_guard.rerun_hint(path) if _guard else DEFAULT_RERUN}"
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


def read_json_record(path: Path, *, kind: str, what: str) -> dict[str, Any] | None:
    """The JSON object in ``path`` whose ``kind`` is ``kind`` (a record medaug wrote);
    ``None`` when there is no such file; one :class:`MedaugError` naming ``path`` when it
    is unreadable or not ``what``."""
    if not path.is_file():
        return None
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path} is unreadable ({exc}); choose another {{out}}", "out") from exc
    if not isinstance(raw, dict) or raw.get("kind") != kind:
        raise ConfigError(f"{path} is not {what}; choose another {{out}}", "out")
    return raw


def remove_stale_tmp(root: Path, *, skip: Callable[[Path], bool] | None = None) -> int:
    """Delete leftovers of interrupted atomic writes under ``root``; return how many.
    ``skip``: sub-folders to leave alone (with everything in them)."""
    removed = 0
    for folder, dirs, files in os.walk(root):
        if skip is not None:
            dirs[:] = [d for d in dirs if not skip(Path(folder, d))]
        for name in files:
            if name.startswith(TMP_PREFIX):
                Path(folder, name).unlink()
                removed += 1
    return removed


__all__ = [
    "DEFAULT_RERUN",
    "TMP_PREFIX",
    "WriteGuard",
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "read_json_record",
    "remove_stale_tmp",
    "set_write_guard",
    "tmp_path_for",
]
