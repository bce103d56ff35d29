"""Running medaug on hostile input without ever hanging the suite, and proving the input
was left alone (bytes, links and modification times).

``time_limit`` guards code run inside the test process: past the limit every thread's
stack is printed and the process exits (a hang fails the run instead of blocking CI).
``run_medaug`` runs the real command line in a subprocess with a timeout.
"""

from __future__ import annotations

import faulthandler
import hashlib
import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner

#: seconds one medaug call on a tiny corpus may take before it counts as a hang
LIMIT_S = 60.0


@contextmanager
def time_limit(seconds: float = LIMIT_S) -> Iterator[None]:
    """Exit the process (printing every thread's stack) if the block outlives ``seconds``."""
    faulthandler.dump_traceback_later(seconds, exit=True)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


def tree_state(root: Path) -> dict[str, tuple[Any, ...]]:
    """Every entry under ``root`` (links not followed): kind, size, mtime_ns and content
    digest (or link target; a FIFO or socket is not read). Equal states mean nothing was
    written, touched or moved."""
    out: dict[str, tuple[Any, ...]] = {}
    for folder, dirs, files in os.walk(root, followlinks=False):
        for name in sorted(dirs + files):
            path = Path(folder, name)
            st = path.lstat()
            rel = str(path.relative_to(root))
            if path.is_symlink():
                out[rel] = ("link", os.readlink(path), st.st_mtime_ns)
            elif path.is_dir():
                out[rel] = ("dir", st.st_mtime_ns)
            elif not stat.S_ISREG(st.st_mode):  # a FIFO or a socket: reading it would block
                out[rel] = ("special", stat.S_IFMT(st.st_mode), st.st_mtime_ns)
            else:
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                out[rel] = ("file", st.st_size, st.st_mtime_ns, digest)
    out["."] = ("dir", root.lstat().st_mtime_ns)
    return out


@dataclass(frozen=True)
class Outcome:
    """What one ``medaug`` call did."""

    code: int
    stdout: str
    stderr: str

    @property
    def report(self) -> dict[str, Any]:
        """``stdout`` as JSON (``inspect --json``)."""
        data: dict[str, Any] = json.loads(self.stdout)
        return data

    @property
    def skipped(self) -> dict[str, str]:
        """The ``skipped`` list of the report: relative path -> reason."""
        return {s["path"]: s["reason"] for s in self.report["skipped"]}

    def assert_clean_error(self, message: str) -> None:
        """A non-zero exit with one line on stderr holding ``message``, no traceback."""
        lines = self.stderr.strip().splitlines()
        assert self.code != 0, self.stdout
        assert "Traceback" not in self.stderr, self.stderr
        assert len(lines) == 1 and message in lines[0], self.stderr


def inspect_in_process(root: Path, *args: str, limit: float = LIMIT_S) -> Outcome:
    """``medaug inspect ROOT --json ARGS`` through Click's runner, under ``time_limit``."""
    from medaug.cli import build_cli

    with time_limit(limit):
        result = CliRunner().invoke(
            build_cli(), ["inspect", str(root), "--json", "--workers", "1", *args]
        )
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"medaug raised {result.exception!r}") from result.exception
    return Outcome(result.exit_code, result.stdout, result.stderr)


def run_medaug(
    args: Sequence[str], *, timeout: float = 120.0, env: dict[str, str] | None = None
) -> Outcome:
    """``python -m medaug ARGS`` in a subprocess; a hang fails the test after ``timeout``."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "medaug", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **(env or {})},
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"medaug {' '.join(args)} hung for more than {timeout} s") from exc
    return Outcome(done.returncode, done.stdout, done.stderr)
