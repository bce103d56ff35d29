"""Per-channel input normalisation, fitted on the training images and saved with the model."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch


@dataclass(frozen=True)
class Normalizer:
    """``(x - mean) / std`` per channel, for inputs in ``[0, 1]``."""

    mean: tuple[float, ...]
    std: tuple[float, ...]

    @classmethod
    def fit(cls, x: torch.Tensor) -> Normalizer:
        """Channel statistics of ``x`` ``(N, C, H, W)``."""
        mean = x.mean(dim=(0, 2, 3))
        std = x.std(dim=(0, 2, 3)).clamp_min(1e-3)
        return cls(tuple(float(v) for v in mean), tuple(float(v) for v in std))

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        mean, std = self.tensors(x.device, x.dtype)
        return (x - mean) / std

    def tensors(
        self, device: torch.device, dtype: torch.dtype = torch.float32
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``mean`` and ``std`` as ``(1, C, 1, 1)`` tensors on ``device``. Making them
        copies from the host, which waits for the GPU: a loop makes them once
        (:meth:`on`)."""
        mean = torch.tensor(self.mean, dtype=dtype).view(1, -1, 1, 1).to(device)
        std = torch.tensor(self.std, dtype=dtype).view(1, -1, 1, 1).to(device)
        return mean, std

    def on(self, device: torch.device) -> Callable[[torch.Tensor], torch.Tensor]:
        """This normalisation for float32 inputs on ``device``, its constants made once."""
        mean, std = self.tensors(device)

        def normalize(x: torch.Tensor) -> torch.Tensor:
            return (x - mean) / std

        return normalize

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "channel_standardize",
            "input_range": [0.0, 1.0],
            "mean": list(self.mean),
            "std": list(self.std),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Normalizer:
        return cls(tuple(d["mean"]), tuple(d["std"]))
