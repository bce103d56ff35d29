"""Small filesystem helpers: hashing, linking real files (atomic writes: :mod:`medaug.atomic`)."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from medaug.atomic import tmp_path_for
from medaug.errors import MedaugError
from medaug.output import admit
from medaug.plugins import format_of

LINK_MODES = ("hardlink", "symlink", "copy", "copy-deidentified")


def link_file(src: Path, dst: Path, mode: str) -> str:
    """Put ``src`` at ``dst`` by ``mode`` (hardlink falls back to a copy across devices).

    Returns the method really used. ``dst`` appears atomically; an existing ``dst`` is
    replaced. Inside a claimed output folder, ``dst`` is recorded in its marker first.
    """
    if mode not in LINK_MODES:
        raise MedaugError(f"invalid link mode {mode!r}: expected {'|'.join(LINK_MODES)}")
    admit(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp_path_for(dst)
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    used = mode
    actions: dict[str, Callable[[], object]] = {
        "hardlink": lambda: os.link(src, tmp),
        "symlink": lambda: os.symlink(src.resolve(), tmp),
        "copy": lambda: shutil.copy2(src, tmp),
        "copy-deidentified": lambda: _copy_deidentified(src, tmp),
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


def _copy_deidentified(src: Path, tmp: Path) -> None:
    """Copy ``src`` through the file format that claims it (DICOM: without patient
    identity; formats that carry none: unchanged)."""
    try:
        format_of(src).copy_deidentified(src, tmp)
    except OSError:
        raise
    except Exception as exc:  # pydicom raises many types for a file it cannot rewrite
        raise OSError(f"cannot de-identify: {exc}") from exc
