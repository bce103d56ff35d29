"""Run the ``medaug`` command in a subprocess that signals itself at a chosen point.

``python -m tests.hardening.signals MODE TARGET -- medaug args...``:

- ``ctrl-c-after MODULE:FUNCTION`` (``ctrl-c-at``): right after the first call of
  ``MODULE.FUNCTION`` returns (as it starts), the process gets SIGINT, as a Ctrl-C in
  the terminal would deliver it;
- ``kill-at-replace NAME``: SIGKILL just before a finished temporary file is renamed onto
  a file named ``NAME`` (the ``kill -9`` that leaves a ``.medaug-tmp-*`` file behind).

The command runs as the ``medaug`` console script does (:func:`medaug.cli.main` without
arguments, reading ``sys.argv``). Nothing in medaug knows about it.
"""

from __future__ import annotations

import functools
import importlib
import os
import signal
import sys
import time
from typing import Any


def _ctrl_c(target: str, *, before: bool) -> None:
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    original = getattr(module, attr)
    sent = False

    def ctrl_c() -> None:
        nonlocal sent
        if not sent:
            sent = True
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)  # the handler runs here; it must end the process

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if before:
            ctrl_c()
        result = original(*args, **kwargs)
        ctrl_c()
        return result

    setattr(module, attr, wrapper)


def _kill_at_replace(name: str) -> None:
    original = os.replace

    def replace(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        if os.path.basename(os.fspath(dst)) == name:
            os.kill(os.getpid(), signal.SIGKILL)
        original(src, dst, *args, **kwargs)

    os.replace = replace


def main() -> None:
    mode, target, sep, *args = sys.argv[1:]
    assert sep == "--", "usage: signals MODE TARGET -- medaug args..."
    # a shell's background jobs start with Ctrl-C ignored: take Python's handler back
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if mode == "kill-at-replace":
        _kill_at_replace(target)
    else:
        _ctrl_c(target, before=mode == "ctrl-c-at")
    from medaug.cli import main as medaug_main

    sys.argv = ["medaug", *args]
    medaug_main()


if __name__ == "__main__":
    main()
