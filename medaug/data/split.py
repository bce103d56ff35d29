"""Patient-grouped, class-stratified train/validation splits.

No patient is ever on both sides (images of one patient are near-duplicates; a split
by image leaks). Each class sends about ``val_fraction`` of its images to validation,
whole patients at a time, and keeps at least one patient on each side when it has two.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from medaug.errors import MedaugError


def split_groups(
    labels: Sequence[Any] | np.ndarray,
    groups: Sequence[Any] | np.ndarray,
    *,
    val_fraction: float = 0.2,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Split rows with ``labels`` and patient ``groups`` into sorted train/val indices."""
    if not 0.0 < val_fraction < 1.0:
        raise MedaugError(f"val_fraction must be between 0 and 1, got {val_fraction}")
    labels = list(labels)
    groups = list(groups)
    if len(labels) != len(groups):
        raise ValueError("labels and groups differ in length")
    rows: dict[Any, list[int]] = defaultdict(list)
    for i, g in enumerate(groups):
        rows[g].append(i)
    # a patient belongs to its most frequent class (ties: the first label seen)
    primary: dict[Any, Any] = {}
    for g, idx in rows.items():
        primary[g] = Counter(labels[i] for i in idx).most_common(1)[0][0]
    by_class: dict[Any, list[Any]] = defaultdict(list)
    for g in rows:  # insertion order = first appearance: deterministic
        by_class[primary[g]].append(g)
    rng = np.random.default_rng(seed)
    val_groups: set[Any] = set()
    for cls in sorted(by_class, key=str):
        patients = by_class[cls]
        if len(patients) < 2:
            continue
        order = [patients[i] for i in rng.permutation(len(patients))]
        total = sum(len(rows[g]) for g in patients)
        target = max(1.0, val_fraction * total)
        taken = 0
        for g in order[:-1]:  # the last patient always stays in train
            if taken >= target or (taken and taken + len(rows[g]) - target > target - taken):
                break
            val_groups.add(g)
            taken += len(rows[g])
    val = np.array(sorted(i for g in val_groups for i in rows[g]), dtype=np.int64)
    train = np.array(
        sorted(i for g in rows if g not in val_groups for i in rows[g]), dtype=np.int64
    )
    return train, val


def patient_split(
    dataset: Any, val_fraction: float = 0.2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Train and validation row indices of an :class:`~medaug.data.ImageDataset` (or a
    :class:`~medaug.contracts.reader.Scan`): grouped by patient, stratified by class,
    seeded. Every class is on both sides when it has at least two patients."""
    records = dataset.records
    return split_groups(
        [r.label for r in records],
        [r.patient_id for r in records],
        val_fraction=val_fraction,
        seed=seed,
    )
