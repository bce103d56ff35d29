"""Device resolution and seeding shared by every command."""

from __future__ import annotations

import os
import random
import re
from typing import TYPE_CHECKING

from medaug.errors import MedaugError

if TYPE_CHECKING:
    import torch

DEVICE_CHOICES = "auto|cpu|cuda|cuda:N"
_DEVICE_RE = re.compile(r"^(auto|cpu|cuda(:\d+)?|mps)$")


def resolve_device(spec: str | torch.device | None = "auto") -> torch.device:
    """Turn ``auto|cpu|cuda|cuda:N`` into a usable :class:`torch.device`.

    ``auto`` (or ``None``) picks CUDA when present, else the CPU. Asking for CUDA on a
    machine without it, or for a GPU index that does not exist, is a clear error.
    """
    import torch

    if isinstance(spec, torch.device):
        return spec
    text = (spec or "auto").strip().lower()
    if not _DEVICE_RE.match(text):
        raise MedaugError(f"invalid device {spec!r}: expected {DEVICE_CHOICES}")
    if text == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if text.startswith("cuda"):
        if not torch.cuda.is_available():
            raise MedaugError(f"device {text!r} requested but CUDA is not available here")
        index = int(text.split(":")[1]) if ":" in text else 0
        if index >= torch.cuda.device_count():
            raise MedaugError(
                f"device {text!r} requested but only {torch.cuda.device_count()} GPU(s) exist"
            )
        return torch.device("cuda", index)
    if text == "mps" and not torch.backends.mps.is_available():
        raise MedaugError("device 'mps' requested but MPS is not available here")
    return torch.device(text)


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch (all devices); return a CPU generator seeded alike."""
    import numpy as np
    import torch

    if seed < 0:
        raise MedaugError(f"seed must be >= 0, got {seed}")
    os.environ.setdefault("PYTHONHASHSEED", str(seed))
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)
