"""An exponential moving average of a network's weights, used for sampling.

The decay warms up as ``min(decay, (1 + k) / (10 + k))`` after ``k`` updates (the
schedule of diffusers' ``EMAModel``), so the short runs usual on a CPU are not
dominated by the random initial weights. The update count lives on the host: no device
sync per step.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn


class EMA:
    """The averaged copy (:attr:`net`) of a network and its update count."""

    def __init__(self, net: nn.Module, decay: float) -> None:
        self.decay = decay
        self.net = copy.deepcopy(net).eval().requires_grad_(False)
        self.updates = 0

    def current_decay(self) -> float:
        """The decay the next update uses."""
        k = self.updates
        return min(self.decay, (1 + k) / (10 + k))

    @torch.no_grad()
    def update(self, net: nn.Module) -> None:
        """Move the average towards ``net``'s current weights."""
        weight = 1.0 - self.current_decay()
        ema: list[torch.Tensor] = [p for p in self.net.parameters() if p.is_floating_point()]
        new: list[torch.Tensor] = [p.detach() for p in net.parameters() if p.is_floating_point()]
        torch._foreach_lerp_(ema, new, weight)
        for mine, theirs in zip(self.net.buffers(), net.buffers(), strict=True):
            mine.copy_(theirs)
        self.updates += 1

    def state_dict(self) -> dict[str, Any]:
        return {"net": self.net.state_dict(), "updates": self.updates}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.net.load_state_dict(state["net"])
        self.updates = int(state["updates"])
