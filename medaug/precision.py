"""One precision policy for every model medaug trains, on the CPU and on CUDA.

``precision`` is ``auto``, ``fp32``, ``bf16`` or ``fp16`` (generators: ``-O
precision=...``; ``train`` and ``experiment``: ``--precision``). The weights stay in
float32; bf16 and fp16 run the forward and backward passes under
:func:`torch.autocast` (mixed precision), fp16 with a gradient scaler.

``auto`` is bf16 where the hardware has it and it measured faster, else fp32:

- CUDA: bf16 on GPUs that support it (Ampere and newer), else fp16;
- CPU: bf16 on processors with AMX tiles (Sapphire Rapids and newer Xeons), where
  ``benchmarks/cpu_precision.py`` measured the DCGAN step about twice as fast; fp32
  elsewhere (without AMX, bf16 matrix work is emulated and slower);
- other devices: fp32.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from medaug.errors import ConfigError, MedaugError

if TYPE_CHECKING:  # torch loads only when a precision is resolved: options stay light
    import torch

PRECISIONS: tuple[str, ...] = ("auto", "fp32", "bf16", "fp16")

__all__ = [
    "PRECISIONS",
    "autocast",
    "check_precision",
    "cpu_has_amx",
    "precision_name",
    "resolve_precision",
    "uses_grad_scaler",
]


def check_precision(spec: object, what: str = "precision") -> str:
    """``spec`` as one of :data:`PRECISIONS` (case-insensitive), or a clear error."""
    text = str(spec).strip().lower()
    if text not in PRECISIONS:
        raise ConfigError(f"{{{what}}} must be one of {', '.join(PRECISIONS)}; got {spec!r}", what)
    return text


def _dtypes() -> dict[str, torch.dtype]:
    import torch

    return {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def cpu_has_amx() -> bool:
    """Whether this CPU has AMX tiles (the bf16 matrix units of recent Xeons)."""
    import torch

    probe = getattr(torch.cpu, "_is_amx_tile_supported", None)
    try:
        return bool(probe()) if probe is not None else False
    except RuntimeError:  # pragma: no cover - a build without the CPU probes
        return False


def resolve_precision(spec: object, device: torch.device | str) -> torch.dtype:
    """The compute dtype that ``spec`` means on ``device`` (float32: no autocast).

    Raises :class:`MedaugError` for a precision the device cannot run (fp16 off CUDA,
    bf16 on a GPU without it).
    """
    import torch

    name = check_precision(spec)
    dev = torch.device(device)
    if name == "auto":
        if dev.type == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        if dev.type == "cpu" and cpu_has_amx():
            return torch.bfloat16
        return torch.float32
    if name == "fp16" and dev.type != "cuda":
        raise MedaugError(f"precision fp16 needs a CUDA device (got {dev.type}); use bf16")
    if name == "bf16" and dev.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise MedaugError("precision bf16: this GPU does not support bfloat16; use fp16")
    if name != "fp32" and dev.type not in ("cuda", "cpu"):
        raise MedaugError(f"precision {name} is supported on CUDA and the CPU, not {dev.type}")
    return _dtypes()[name]


def precision_name(dtype: torch.dtype) -> str:
    """``fp32``, ``bf16`` or ``fp16`` for a compute dtype from :func:`resolve_precision`."""
    return {dtype: name for name, dtype in _dtypes().items()}[dtype]


def autocast(
    device: torch.device | str, dtype: torch.dtype
) -> contextlib.AbstractContextManager[Any]:
    """Mixed precision in ``dtype`` on ``device`` (nothing for float32)."""
    import torch

    if dtype == torch.float32:
        return contextlib.nullcontext()
    return torch.autocast(torch.device(device).type, dtype=dtype)


def uses_grad_scaler(dtype: torch.dtype) -> bool:
    """Whether training in ``dtype`` needs a gradient scaler (fp16 only)."""
    import torch

    return dtype == torch.float16
