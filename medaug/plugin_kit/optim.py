"""The optimiser generator plugins train with."""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn


def fused_adam(
    parameters: Iterable[nn.Parameter], lr: float, betas: tuple[float, float] = (0.9, 0.999)
) -> torch.optim.Adam:
    """Adam with the fused kernel where this build has one for these parameters' device,
    else the foreach one (the same maths, fewer kernel launches than a loop)."""
    params = list(parameters)
    try:
        return torch.optim.Adam(params, lr=lr, betas=betas, fused=True)
    except (RuntimeError, TypeError):
        return torch.optim.Adam(params, lr=lr, betas=betas, foreach=True)


__all__ = ["fused_adam"]
