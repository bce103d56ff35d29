"""Plugin options as the command line gives them (``-O key=value``, values parsed as
JSON where possible, so a boolean may arrive as ``"true"``): checked and converted, with
one :class:`~medaug.errors.MedaugError` naming the plugin and the option."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from medaug.errors import MedaugError

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def as_bool(plugin: str, name: str, value: Any) -> bool:
    """``value`` as a bool; accepts true/false, yes/no, on/off and 1/0 as text."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise MedaugError(f"{plugin} option {name!r} must be true or false, got {value!r}")


def as_int(plugin: str, name: str, value: Any, low: int) -> int:
    """``value`` as an integer of at least ``low`` (a bool is no integer here)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise MedaugError(f"{plugin} option {name!r} must be an integer >= {low}, got {value!r}")
    return value


def as_float(
    plugin: str, name: str, value: Any, low: float | None = None, high: float | None = None
) -> float:
    """``value`` as a float, within ``[low, high]`` where given."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MedaugError(f"{plugin} option {name!r} must be a number, got {value!r}")
    number = float(value)
    if (low is not None and number < low) or (high is not None and number > high):
        if high is None:
            bounds = f">= {low}"
        elif low is None:
            bounds = f"<= {high}"
        else:
            bounds = f"in [{low}, {high}]"
        raise MedaugError(f"{plugin} option {name!r} must be {bounds}, got {value!r}")
    return number


def check_known(
    plugin: str, options: Mapping[str, Any], valid: Iterable[str], *, legacy: Iterable[str] = ()
) -> None:
    """Raise when ``options`` holds a name that is neither ``valid`` nor a ``legacy``
    one still accepted; the message lists the valid names."""
    names = list(valid)
    unknown = sorted(set(options) - set(names) - set(legacy))
    if unknown:
        raise MedaugError(
            f"unknown {plugin} option {unknown[0]!r}; valid options: {', '.join(names)}"
        )


__all__ = ["as_bool", "as_float", "as_int", "check_known"]
