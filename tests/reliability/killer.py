"""Run a medaug command in a subprocess that kills itself with SIGKILL at a chosen point.

``python -m tests.reliability.killer MODULE:FUNCTION N -- medaug args...`` wraps
``MODULE.FUNCTION`` so that its N-th call (1-based) sends SIGKILL to the process before
doing its work: a ``kill -9`` at an exact, repeatable point of a run (linking a real file,
saving a checkpoint, writing an image, writing the manifest...). Nothing in medaug knows
about it.
"""

from __future__ import annotations

import functools
import importlib
import os
import signal
import sys
from typing import Any


def _arm(target: str, nth: int) -> None:
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    original = getattr(module, attr)
    calls = 0

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == nth:
            os.kill(os.getpid(), signal.SIGKILL)
        return original(*args, **kwargs)

    setattr(module, attr, wrapper)


def main() -> None:
    target, nth, sep, *args = sys.argv[1:]
    assert sep == "--", "usage: killer MODULE:FUNCTION N -- medaug args..."
    _arm(target, int(nth))
    from medaug.cli import main as medaug_main

    medaug_main(args)


if __name__ == "__main__":
    main()
