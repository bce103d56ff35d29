"""Improved precision and recall (Kynkaanniemi et al. 2019) and density and coverage
(Naeem et al. 2020), from k-nearest-neighbour balls in feature space.

Each real feature gets a ball whose radius is its distance to its ``k``-th nearest real
neighbour (likewise for synthetic features, for recall):

- precision: share of synthetic features inside some real ball (realism);
- recall: share of real features inside some synthetic ball (diversity);
- density: how many real balls contain a synthetic feature on average, divided by ``k``
  (about 1 for matching distributions; above 1 when samples crowd the dense modes);
- coverage: share of real balls that contain at least one synthetic feature.

torchmetrics has no implementation of these; this is the papers' definition verbatim.
"""

from __future__ import annotations

import torch


def _radii(features: torch.Tensor, k: int) -> torch.Tensor:
    """Distance of every row to its ``k``-th nearest other row."""
    d = torch.cdist(features, features)
    # the smallest distance is the row to itself (0): the k-th neighbour is the (k+1)-th value
    return d.kthvalue(k + 1, dim=1).values


def precision_recall_density_coverage(
    real: torch.Tensor, synthetic: torch.Tensor, *, k: int
) -> dict[str, float]:
    """The four figures for ``(N, D)`` real and ``(M, D)`` synthetic features (``N, M > k``)."""
    if len(real) <= k or len(synthetic) <= k:
        raise ValueError(f"precision/recall need more than k={k} features per set")
    real_radii = _radii(real, k)
    synthetic_radii = _radii(synthetic, k)
    d = torch.cdist(real, synthetic)  # (N, M)
    in_real_ball = d <= real_radii[:, None]
    return {
        "precision": float(in_real_ball.any(dim=0).double().mean()),
        "recall": float((d <= synthetic_radii[None, :]).any(dim=1).double().mean()),
        "density": float(in_real_ball.sum(dim=0).double().mean() / k),
        "coverage": float((d.min(dim=1).values <= real_radii).double().mean()),
    }


__all__ = ["precision_recall_density_coverage"]
