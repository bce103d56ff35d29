"""Click options shared by several commands, so they read the same everywhere."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from medaug.runtime import DEVICE_CHOICES

F = TypeVar("F", bound=Callable[..., Any])


def device_option(f: F) -> F:
    """``--device auto|cpu|cuda|cuda:N`` (resolve with :func:`medaug.resolve_device`)."""
    return click.option(
        "--device",
        default="auto",
        show_default=True,
        metavar=DEVICE_CHOICES.upper(),
        help="Where to compute: auto picks CUDA when present, else the CPU.",
    )(f)


def seed_option(f: F) -> F:
    """``--seed N``."""
    return click.option(
        "--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Random seed."
    )(f)


def json_option(f: F) -> F:
    """``--json``: machine-readable output on stdout."""
    return click.option(
        "--json", "as_json", is_flag=True, help="Print machine-readable JSON on stdout."
    )(f)


def parse_key_values(pairs: tuple[str, ...] | list[str], what: str = "--option") -> dict[str, Any]:
    """Turn ``key=value`` strings into a dict; values are parsed as JSON when they can be
    (``lr=0.001`` -> float, ``flag=true`` -> bool), else kept as strings."""
    import json

    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise click.BadParameter(f"expected key=value, got {pair!r}", param_hint=what)
        try:
            out[key] = json.loads(raw)
        except ValueError:
            out[key] = raw
    return out
