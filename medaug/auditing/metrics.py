"""One comparison of two feature sets: every fidelity/diversity figure with its uncertainty.

Point values use the full sets. Uncertainties: FID, precision, recall, density and
coverage: the standard deviation over ``subsets`` random half-size subsets of both sets
(drawn without replacement; at half size the spread is about 1.4 times that of the full
sets, so it errs on the cautious side); KID: torchmetrics' mean and standard deviation
over subsets of half the smaller set (at most 1000 images); C2ST: over its cross-validation folds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from medaug.auditing.c2st import c2st_auc
from medaug.auditing.distances import frechet_distance, kernel_distance
from medaug.auditing.prdc import NeighbourBalls
from medaug.auditing.settings import AuditSettings

PRDC = ("precision", "recall", "density", "coverage")


@dataclass(frozen=True)
class MetricSet:
    """The figures of one comparison (synthetic vs real, or real vs real)."""

    n_reference: int
    n_compared: int
    fid: float
    fid_std: float
    kid: float
    kid_std: float
    precision: float
    precision_std: float
    recall: float
    recall_std: float
    density: float
    density_std: float
    coverage: float
    coverage_std: float
    c2st_auc: float
    c2st_auc_std: float

    def to_json(self, digits: int = 6) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in self.__dict__.items():
            out[key] = value if isinstance(value, int) else round(float(value), digits)
        return out


def _std(values: list[float]) -> float:
    return float(np.std(values, ddof=1)) if len(values) > 1 else 0.0


def compare(
    reference: torch.Tensor,
    compared: torch.Tensor,
    *,
    settings: AuditSettings,
    seed: int,
    reference_groups: Sequence[str] | None = None,
) -> MetricSet:
    """All figures of ``compared`` features against ``reference`` features."""
    k = settings.k
    n_ref, n_cmp = len(reference), len(compared)
    fid = frechet_distance(reference, compared)
    balls = NeighbourBalls(reference, compared)
    prdc = balls.figures(k)
    kid, kid_std = kernel_distance(
        reference,
        compared,
        subsets=settings.kid_subsets,
        subset_size=max(2, min(n_ref, n_cmp, 2000) // 2),
        seed=seed,
    )
    auc, auc_std = c2st_auc(
        reference, compared, folds=settings.folds, seed=seed, real_groups=reference_groups
    )
    rng = np.random.default_rng(seed)
    spread: dict[str, list[float]] = {name: [] for name in ("fid", *PRDC)}
    half_ref, half_cmp = max(k + 1, n_ref // 2), max(k + 1, n_cmp // 2)
    for _ in range(settings.subsets):
        a = torch.from_numpy(rng.choice(n_ref, size=min(half_ref, n_ref), replace=False))
        b = torch.from_numpy(rng.choice(n_cmp, size=min(half_cmp, n_cmp), replace=False))
        spread["fid"].append(frechet_distance(reference[a], compared[b]))
        for name, value in balls.figures(k, a, b).items():
            spread[name].append(value)
    return MetricSet(
        n_reference=n_ref,
        n_compared=n_cmp,
        fid=fid,
        fid_std=_std(spread["fid"]),
        kid=kid,
        kid_std=kid_std,
        precision=prdc["precision"],
        precision_std=_std(spread["precision"]),
        recall=prdc["recall"],
        recall_std=_std(spread["recall"]),
        density=prdc["density"],
        density_std=_std(spread["density"]),
        coverage=prdc["coverage"],
        coverage_std=_std(spread["coverage"]),
        c2st_auc=auc,
        c2st_auc_std=auc_std,
    )


def split_halves(
    n: int, *, seed: int, groups: Sequence[str] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Two disjoint halves of ``range(n)`` (by patient when ``groups`` are given: every
    patient's images land in one half, patients shuffled and dealt to the smaller half)."""
    rng = np.random.default_rng(seed)
    if groups is None or len(set(groups)) < 2:
        order = rng.permutation(n)
        return np.sort(order[: n // 2]), np.sort(order[n // 2 :])
    members: dict[str, list[int]] = {}
    for i, g in enumerate(groups):
        members.setdefault(g, []).append(i)
    names = sorted(members)
    halves: tuple[list[int], list[int]] = ([], [])
    for j in rng.permutation(len(names)):
        target = halves[0] if len(halves[0]) <= len(halves[1]) else halves[1]
        target.extend(members[names[j]])
    return np.sort(np.array(halves[0], dtype=np.int64)), np.sort(
        np.array(halves[1], dtype=np.int64)
    )


__all__ = ["MetricSet", "compare", "split_halves"]
