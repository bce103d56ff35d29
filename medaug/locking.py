"""One writer per output folder: an advisory lock held for the length of a run.

Two medaug commands on the same output folder would delete each other's temporary files
and interleave their writes; the second one is refused ("in use") instead. Every command
holds it through :func:`medaug.output.claim_output`. The lock is
``flock`` on the folder itself (no lock file is left behind) and is released by the
operating system when the process ends, even after ``kill -9``.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator
from pathlib import Path

from medaug.errors import MedaugError


@contextlib.contextmanager
def folder_lock(folder: Path, *, what: str = "run") -> Iterator[None]:
    """Create ``folder`` if needed and hold an exclusive lock on it; raise
    :class:`MedaugError` at once when another process holds it."""
    import fcntl

    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise MedaugError(
                    f"{folder} is in use: another medaug {what} is writing to it; wait for "
                    "it to finish or choose another --out"
                ) from None
            raise
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


__all__ = ["folder_lock"]
