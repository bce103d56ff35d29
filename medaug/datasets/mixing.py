""":func:`mixing_sampler`: draw real and synthetic images at a chosen ratio.

It returns a plain ``torch.utils.data.WeightedRandomSampler`` (with replacement) whose
weights give synthetic images ``synthetic_fraction`` of the probability mass and real
ones the rest. With ``class_balanced=True`` every class also gets the same mass; the
synthetic mass is shared equally by the classes that have both kinds of images (a class
with only real images draws only real ones), so not every fraction is possible: the
error says which are.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch.utils.data import ConcatDataset, Dataset, Subset, WeightedRandomSampler

from medaug.errors import MedaugError

_TOLERANCE = 1e-9


def origins(dataset: Dataset[Any]) -> tuple[np.ndarray, np.ndarray]:
    """``(is_synthetic, targets)`` per index of a :class:`~medaug.datasets.BalancedFolder`,
    :class:`~medaug.datasets.SyntheticImages`, or a ``Subset``/``ConcatDataset`` of them."""
    from medaug.datasets.balanced import BalancedFolder
    from medaug.datasets.synthetic import SyntheticImages

    if isinstance(dataset, BalancedFolder):
        synthetic = np.array([s == "synthetic" for s in dataset.sources], dtype=bool)
        return synthetic, np.asarray(dataset.targets, dtype=np.int64)
    if isinstance(dataset, SyntheticImages):
        return np.ones(len(dataset), dtype=bool), np.asarray(dataset.targets, dtype=np.int64)
    if isinstance(dataset, Subset):
        synthetic, targets = origins(dataset.dataset)
        idx = np.asarray(dataset.indices, dtype=np.int64)
        return synthetic[idx], targets[idx]
    if isinstance(dataset, ConcatDataset):
        parts = [origins(d) for d in dataset.datasets]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    raise MedaugError(
        f"mixing_sampler needs a BalancedFolder, SyntheticImages, or a Subset/ConcatDataset "
        f"of them; got {type(dataset).__name__}"
    )


def mixing_weights(
    synthetic: np.ndarray,
    targets: np.ndarray,
    synthetic_fraction: float,
    *,
    class_balanced: bool = False,
) -> np.ndarray:
    """Sampling weight per image (they sum to 1); see the module docstring."""
    f = float(synthetic_fraction)
    if not 0.0 <= f <= 1.0:
        raise MedaugError(f"synthetic_fraction must be between 0 and 1, got {synthetic_fraction}")
    if len(synthetic) == 0:
        raise MedaugError("the dataset is empty")
    if f > 0 and not synthetic.any():
        raise MedaugError(f"synthetic_fraction is {f} but the dataset has no synthetic images")
    if f < 1 and synthetic.all():
        raise MedaugError(f"synthetic_fraction is {f} but the dataset has no real images")
    if class_balanced:
        return _balanced_weights(synthetic, targets, f)
    weights = np.zeros(len(synthetic), dtype=np.float64)
    if f > 0:
        weights[synthetic] = f / synthetic.sum()
    if f < 1:
        weights[~synthetic] = (1.0 - f) / (~synthetic).sum()
    return weights


def _balanced_weights(synthetic: np.ndarray, targets: np.ndarray, f: float) -> np.ndarray:
    classes = np.unique(targets)
    share = 1.0 / len(classes)
    has_syn = {int(c): bool(synthetic[targets == c].any()) for c in classes}
    has_real = {int(c): bool((~synthetic[targets == c]).any()) for c in classes}
    only_syn = [c for c in has_syn if has_syn[c] and not has_real[c]]
    mixed = [c for c in has_syn if has_syn[c] and has_real[c]]
    lowest = len(only_syn) * share
    highest = (len(only_syn) + len(mixed)) * share
    if not lowest - _TOLERANCE <= f <= highest + _TOLERANCE:
        raise MedaugError(
            f"with class_balanced=True, synthetic_fraction must be between {lowest:.3g} and "
            f"{highest:.3g} here ({len(mixed) + len(only_syn)} of {len(classes)} classes have "
            f"synthetic images); got {f}"
        )
    per_mixed = min(max((f - lowest) / len(mixed), 0.0), share) if mixed else 0.0
    weights = np.zeros(len(synthetic), dtype=np.float64)
    for c in (int(c) for c in classes):
        in_class = targets == c
        syn_mass = share if c in only_syn else (per_mixed if c in mixed else 0.0)
        for mask, mass in (
            (in_class & synthetic, syn_mass),
            (in_class & ~synthetic, share - syn_mass),
        ):
            if mask.any():
                weights[mask] = mass / mask.sum()
    return weights


def mixing_sampler(
    dataset: Dataset[Any],
    synthetic_fraction: float = 0.3,
    *,
    num_samples: int | None = None,
    class_balanced: bool = False,
    generator: torch.Generator | None = None,
) -> WeightedRandomSampler:
    """A ``WeightedRandomSampler`` over ``dataset`` drawing synthetic images with
    probability ``synthetic_fraction`` (``num_samples`` draws per epoch, default
    ``len(dataset)``, with replacement; ``generator`` makes the draws reproducible).

    ``dataset`` is a :class:`~medaug.datasets.BalancedFolder`, a
    :class:`~medaug.datasets.SyntheticImages`, or a ``Subset``/``ConcatDataset`` of them
    (a training split, or real images plus streamed synthetic ones).
    """
    synthetic, targets = origins(dataset)
    weights = mixing_weights(synthetic, targets, synthetic_fraction, class_balanced=class_balanced)
    count = len(synthetic) if num_samples is None else int(num_samples)
    if count < 1:
        raise MedaugError(f"num_samples must be at least 1, got {num_samples}")
    return WeightedRandomSampler(weights.tolist(), count, replacement=True, generator=generator)


__all__ = ["mixing_sampler", "mixing_weights", "origins"]
