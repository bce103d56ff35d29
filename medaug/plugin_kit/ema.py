"""An exponential moving average of a network's weights, used for sampling.

Averaging a generator's weights over the last few hundred steps smooths the oscillation
of GAN training and gives visibly cleaner samples at no training cost (Yazici et al.
2019, "The unusual effectiveness of averaging in GAN training", arXiv:1806.04498; used
by ProGAN, BigGAN and StyleGAN); diffusion models sample from such an average too (Ho
et al. 2020). The decay ramps up as ``min(decay, (1 + t) / (10 + t))`` after ``t``
updates, so a short run is not dominated by its random initial weights. BatchNorm
running statistics are averaged the same way (integer buffers are copied). The update
count lives on the host: no device sync per step.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any

import torch
from torch import nn


class WeightEMA:
    """A frozen copy of a network whose weights follow the original's moving average."""

    def __init__(self, source: nn.Module, decay: float) -> None:
        self.decay = float(decay)
        self.model = copy.deepcopy(source).eval().requires_grad_(False)
        self.updates = 0

    def _pairs(self, source: nn.Module) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        yield from zip(self.model.parameters(), source.parameters(), strict=True)
        yield from zip(self.model.buffers(), source.buffers(), strict=True)

    @torch.no_grad()
    def reset(self, source: nn.Module) -> None:
        """Start over from ``source``'s current weights."""
        for mine, theirs in self._pairs(source):
            mine.copy_(theirs)
        self.updates = 0

    @torch.no_grad()
    def update(self, source: nn.Module) -> None:
        """One step of the average towards ``source``'s current weights."""
        self.updates += 1
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates))
        mine: list[torch.Tensor] = []
        theirs: list[torch.Tensor] = []
        for a, b in self._pairs(source):
            if a.is_floating_point():
                mine.append(a)
                theirs.append(b.detach())
            else:
                a.copy_(b)
        # one fused kernel for all tensors on CUDA (the same lerp, tensor by tensor, on CPU)
        torch._foreach_lerp_(mine, theirs, 1.0 - decay)

    def state_dict(self) -> dict[str, Any]:
        return {"model": self.model.state_dict(), "updates": self.updates}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        # ddpm states of medaug before plugin_kit named the copy "net"
        self.model.load_state_dict(state["model"] if "model" in state else state["net"])
        self.updates = int(state["updates"])


__all__ = ["WeightEMA"]
