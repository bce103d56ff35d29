"""The one pair of rich consoles every command writes through.

Human output goes to :data:`console` (stdout); warnings and errors to
:data:`err_console` (stderr). ``--json`` output bypasses rich entirely
(:func:`print_json`) so it stays machine-readable.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console
from rich.markup import escape

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def print_json(data: Any) -> None:
    """Write ``data`` as JSON on stdout, undecorated."""
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    sys.stdout.flush()


def warn(message: str) -> None:
    """One warning line on stderr (``message`` is plain text: brackets print as they are)."""
    err_console.print(f"[yellow]Warning:[/yellow] {escape(message)}", markup=True, soft_wrap=True)


def error(message: str) -> None:
    """One error line on stderr (``message`` is plain text: brackets print as they are)."""
    err_console.print(f"[red]Error:[/red] {escape(message)}", markup=True, soft_wrap=True)
