"""Local weight files: their SHA-256 and their state dict, read safely (never downloaded)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from medaug.errors import MedaugError

#: keys under which training scripts commonly nest the state dict
NESTED_KEYS = ("state_dict", "model_state_dict", "model", "net", "module")


def require_weights(name: str, weights: str | Path | None) -> Path:
    """The weights file of extractor ``name``, or a one-line error saying how to give one."""
    if weights is None or str(weights).strip() == "":
        raise MedaugError(
            f"extractor {name!r} needs a local weights file: pass --weights FILE "
            "(medaug never downloads weights)"
        )
    path = Path(weights).expanduser()
    if not path.is_file():
        raise MedaugError(f"weights file {str(path)!r} of extractor {name!r} does not exist")
    return path


def _is_tensor_map(obj: Any) -> bool:
    return (
        isinstance(obj, dict)
        and bool(obj)
        and all(isinstance(v, torch.Tensor) for v in obj.values())
    )


def load_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """The tensors of a saved state dict (plain, nested under ``state_dict``/``model``...,
    or saved from ``DataParallel`` with ``module.`` prefixes). Pickled whole models are
    refused: only ``torch.load(weights_only=True)`` is used."""
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise MedaugError(
            f"cannot read weights {str(path)!r} as a state dict (medaug loads them with "
            f"weights_only=True; save model.state_dict()): {type(exc).__name__}"
        ) from exc
    for key in NESTED_KEYS:
        if isinstance(obj, dict) and not _is_tensor_map(obj) and _is_tensor_map(obj.get(key)):
            obj = obj[key]
            break
    if not _is_tensor_map(obj):
        raise MedaugError(f"weights {str(path)!r} hold no state dict of tensors")
    state = {str(k): v for k, v in obj.items()}
    if all(k.startswith("module.") for k in state):
        state = {k[len("module.") :]: v for k, v in state.items()}
    return state


__all__ = ["load_state_dict", "require_weights"]
