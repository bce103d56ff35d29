"""FID and KID with torchmetrics, on features an extractor already computed.

torchmetrics' ``FrechetInceptionDistance`` and ``KernelInceptionDistance`` take any
:class:`torch.nn.Module` as their feature extractor (no torch-fidelity, no Inception
download). The audit computes features once and then evaluates many subsets, so the
module handed to torchmetrics is :class:`FeatureInput`, which passes the extractor's
features through: the formulas are torchmetrics' own, not re-implemented here. The
metrics never synchronise across a torch.distributed process group (``sync_on_compute=
False``): each audit holds all of its features, and under torchrun ranks audit different
seeds or classes (a sync would mix them, or wait forever for a rank with nothing to audit).
"""

from __future__ import annotations

import warnings

import torch
from torch import nn


class FeatureInput(nn.Module):
    """The identity on ``(N, num_features)`` features: lets torchmetrics' image metrics
    run on features computed beforehand by a medaug extractor."""

    def __init__(self, num_features: int) -> None:
        super().__init__()
        self.num_features = num_features

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return features


def frechet_distance(real: torch.Tensor, synthetic: torch.Tensor) -> float:
    """FID between two ``(N, D)`` feature sets (torchmetrics, float64)."""
    from torchmetrics.image.fid import FrechetInceptionDistance

    metric = FrechetInceptionDistance(feature=FeatureInput(real.shape[1]), sync_on_compute=False)
    metric.update(real.double(), real=True)
    metric.update(synthetic.double(), real=False)
    return max(0.0, float(metric.compute()))


def kernel_distance(
    real: torch.Tensor, synthetic: torch.Tensor, *, subsets: int, subset_size: int, seed: int
) -> tuple[float, float]:
    """KID mean and standard deviation over ``subsets`` random subsets of ``subset_size``
    (torchmetrics; its subset draws are seeded with ``seed``)."""
    from torchmetrics.image.kid import KernelInceptionDistance

    with warnings.catch_warnings():
        # "will save all extracted features in buffer": expected, the sets are small
        warnings.simplefilter("ignore", UserWarning)
        metric = KernelInceptionDistance(
            feature=FeatureInput(real.shape[1]),
            subsets=subsets,
            subset_size=subset_size,
            sync_on_compute=False,
        )
    metric.update(real.double(), real=True)
    metric.update(synthetic.double(), real=False)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        mean, std = metric.compute()
    return float(mean), float(std)


__all__ = ["FeatureInput", "frechet_distance", "kernel_distance"]
