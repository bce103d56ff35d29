"""The ``medaug`` command under torchrun: one process group per process, one voice.

:func:`launch_session` wraps the whole command. Without torchrun it does nothing (and
imports nothing heavy). Under torchrun it joins the process group, checks that every rank
was given the same command line, and silences the other ranks: only rank 0 prints
tables, JSON, progress bars, log lines and warnings. Errors are the exception: any rank
prints its one-line error (:func:`report_error`, prefixed ``rank N:`` on ranks other than
0) and exits non-zero, after which torchrun stops the rest.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import TextIO

from medaug import distributed
from medaug.console import console, err_console, error
from medaug.errors import MedaugError


def report_error(message: str) -> None:
    """One error line on stderr, on every rank (``rank N:`` prefix on ranks other than 0)."""
    quiet = err_console.quiet
    err_console.quiet = False
    try:
        r = distributed.rank()
        error(f"rank {r}: {message}" if r else message)
    finally:
        err_console.quiet = quiet


def describe_failure(exc: Exception) -> str:
    """The one-line message of an unexpected exception. A broken connection between
    ranks says so: it is the echo of another rank's failure, whose own error names the
    cause."""
    dist = sys.modules.get("torch.distributed")
    if dist is not None and isinstance(exc, getattr(dist, "DistError", ())):
        return (
            "lost contact with the other ranks: one of them stopped first (its error "
            "above names the cause)"
        )
    return f"{type(exc).__name__}: {exc} (run 'medaug --debug ...' for the traceback)"


@contextmanager
def launch_session(args: Sequence[str]) -> Iterator[None]:
    """Run a command line as one rank of a torchrun launch (a no-op without torchrun).

    A launch whose ranks were given different ``args`` fails on every rank with one
    line naming the first rank that differs. When this call created the process group,
    the process ends here, with the command's exit status, through
    :func:`medaug.distributed.exit_process` (which says why).
    """
    if not distributed.launched():
        yield
        return
    owner = not distributed.is_initialized()
    code: int | str | None = 0
    try:
        with ExitStack() as stack:
            try:
                stack.enter_context(distributed.session())
                distributed.check_same_on_all_ranks(
                    list(args),
                    "the command line",
                    hint="torchrun must start every rank with the same medaug arguments",
                )
            except MedaugError as exc:
                report_error(str(exc))
                sys.exit(exc.exit_code)
            if not distributed.is_main():
                stack.enter_context(_muted_output())
            yield
    except SystemExit as exc:
        if not owner:
            raise
        code = exc.code
    if owner:  # the group is gone: leave without finalizing the interpreter
        distributed.exit_process(code)


@contextmanager
def _muted_output() -> Iterator[None]:
    """Silence stdout and medaug's consoles (errors still print through report_error)."""
    saved: tuple[TextIO, bool, bool] = (sys.stdout, console.quiet, err_console.quiet)
    with open(os.devnull, "w", encoding="utf-8") as sink:
        sys.stdout = sink
        console.quiet = err_console.quiet = True
        try:
            yield
        finally:
            sys.stdout, console.quiet, err_console.quiet = saved
