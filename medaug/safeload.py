"""Reading the torch files medaug is handed (generator checkpoints, ``model.pt``).

Every such file is read with ``torch.load(weights_only=True)`` (no code runs), and
whatever is wrong with it (missing, a folder, empty, cut short, not a torch file, a
pickle payload) is one :class:`~medaug.errors.MedaugError` that names the file and
says why, never an exception with an empty message.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from medaug.errors import MedaugError

if TYPE_CHECKING:
    from torch import nn


def first_line(exc: BaseException) -> str:
    """The first line of ``exc``'s message, or its type name when it has none (torch
    raises an ``EOFError`` without a message for an empty file)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def load_torch_file(path: Path, what: str) -> Any:
    """``torch.load(path, weights_only=True)`` onto the CPU; ``what`` (``"checkpoint"``,
    ``"model file"``) names the file in the one-line errors."""
    import torch

    path = Path(path)
    if not path.exists():
        raise MedaugError(f"{what} {path} does not exist")
    if not path.is_file():
        raise MedaugError(f"{what} {path} is not a file")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise MedaugError(f"cannot read {what} {path}: {first_line(exc)}") from exc
    if size == 0:
        raise MedaugError(f"cannot read {what} {path}: the file is empty (0 bytes)")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a file it cannot read
        raise MedaugError(f"cannot read {what} {path}: {first_line(exc)}") from exc


def _shapes(state: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
    return {str(k): tuple(v.shape) for k, v in state.items() if hasattr(v, "shape")}


def check_network_size(
    build: Callable[[], nn.Module], state: Mapping[str, Any], source: str
) -> None:
    """Build the network on PyTorch's ``meta`` device (shapes only, no memory) and
    compare it with the weights ``state`` it is to load: options that describe another,
    possibly huge, network (``widths=[16, 1000000]``) are refused before the real one
    is allocated. A factory that cannot build on ``meta`` is left to the real build."""
    import torch

    try:
        with torch.device("meta"):
            model = build()
    except MedaugError:
        raise
    except Exception:
        return
    expected, given = _shapes(model.state_dict()), _shapes(state)
    if expected == given:
        return
    key = next(k for k in sorted(set(expected) | set(given)) if expected.get(k) != given.get(k))
    raise MedaugError(
        f"{source}: its options describe a network other than its weights ({key}: "
        f"{expected.get(key)} from the options, {given.get(key)} in the weights)"
    )


__all__ = ["check_network_size", "first_line", "load_torch_file"]
