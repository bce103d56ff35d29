"""Per-channel input normalisation, fitted on the training images and saved with the model."""

from __future__ import annotations

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
        mean = torch.tensor(self.mean, dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
        std = torch.tensor(self.std, dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
        return (x - mean) / std

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
