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


def ball_radii(distances: torch.Tensor, k: int) -> torch.Tensor:
    """Each row's ball radius from its square distance matrix to the same set: the
    distance to its ``k``-th nearest neighbour (its smallest, 0, is to itself)."""
    return distances.kthvalue(k + 1, dim=1).values


def ball_ratios(real: torch.Tensor, radii: torch.Tensor, synthetic: torch.Tensor) -> torch.Tensor:
    """For each synthetic feature, its smallest distance to a real feature relative to that
    real feature's ball radius: at most 1 when it lies inside some real ball, which is
    what precision counts."""
    return (torch.cdist(synthetic, real) / radii.clamp_min(1e-12)[None, :]).min(dim=1).values


class NeighbourBalls:
    """The pairwise distances of a real and a synthetic feature set, computed once, from
    which the four figures of the full sets and of any subsets are read."""

    def __init__(self, real: torch.Tensor, synthetic: torch.Tensor) -> None:
        self.real_real = torch.cdist(real, real)
        self.synthetic_synthetic = torch.cdist(synthetic, synthetic)
        self.real_synthetic = torch.cdist(real, synthetic)  # (N, M)

    def figures(
        self, k: int, real: torch.Tensor | None = None, synthetic: torch.Tensor | None = None
    ) -> dict[str, float]:
        """Precision, recall, density and coverage for the rows ``real`` and ``synthetic``
        (index tensors; ``None``: all)."""
        rr, ss, d = self.real_real, self.synthetic_synthetic, self.real_synthetic
        if real is not None:
            rr, d = rr[real][:, real], d[real]
        if synthetic is not None:
            ss, d = ss[synthetic][:, synthetic], d[:, synthetic]
        if len(rr) <= k or len(ss) <= k:
            raise ValueError(f"precision/recall need more than k={k} features per set")
        real_radii, synthetic_radii = ball_radii(rr, k), ball_radii(ss, k)
        in_real_ball = d <= real_radii[:, None]
        return {
            "precision": float(in_real_ball.any(dim=0).double().mean()),
            "recall": float((d <= synthetic_radii[None, :]).any(dim=1).double().mean()),
            "density": float(in_real_ball.sum(dim=0).double().mean() / k),
            "coverage": float((d.min(dim=1).values <= real_radii).double().mean()),
        }


def precision_recall_density_coverage(
    real: torch.Tensor, synthetic: torch.Tensor, *, k: int
) -> dict[str, float]:
    """The four figures for ``(N, D)`` real and ``(M, D)`` synthetic features (``N, M > k``)."""
    return NeighbourBalls(real, synthetic).figures(k)


__all__ = ["NeighbourBalls", "ball_radii", "ball_ratios", "precision_recall_density_coverage"]
