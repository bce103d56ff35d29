"""Classifier two-sample test (Lopez-Paz & Oquab 2017): can a classifier tell the sets apart?

A linear discriminant (scikit-learn's LDA with Ledoit-Wolf shrinkage: closed form, fast,
deterministic, well-behaved when there are nearly as many features as images) learns
"real" vs "synthetic" from the features; its cross-validated ROC-AUC is the figure:
0.5 means indistinguishable, 1.0 means every synthetic image is recognised. Folds keep
each patient's real images together when patient ids are known, so recognising a patient
is not mistaken for recognising a set.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch


def linear_discriminant(*, classes: int | None = None) -> Any:
    """scikit-learn's LDA with Ledoit-Wolf shrinkage, the audit's classifier on features;
    ``classes``: equal priors over that many classes (else the training frequencies)."""
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    priors = None if classes is None else np.full(classes, 1.0 / classes)
    return LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto", priors=priors)


def c2st_auc(
    real: torch.Tensor,
    synthetic: torch.Tensor,
    *,
    folds: int,
    seed: int,
    real_groups: Sequence[str] | None = None,
) -> tuple[float, float]:
    """Mean and standard deviation of the ROC-AUC over ``folds`` cross-validation folds."""
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold, cross_val_score
    from threadpoolctl import threadpool_limits

    x = torch.cat([real, synthetic]).numpy()
    y = np.r_[np.zeros(len(real), dtype=int), np.ones(len(synthetic), dtype=int)]
    n_folds = max(2, min(folds, len(real), len(synthetic)))
    model = linear_discriminant()
    groups: np.ndarray | None = None
    cv: StratifiedKFold | StratifiedGroupKFold
    if real_groups is not None and len(set(real_groups)) >= n_folds:
        groups = np.array(
            [f"r:{g}" for g in real_groups] + [f"s:{i}" for i in range(len(synthetic))],
            dtype=object,
        )
        cv = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    else:
        cv = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    # small dense problems: one BLAS thread is fastest and never stalls on a busy machine
    with threadpool_limits(limits=1, user_api="blas"):
        scores = cross_val_score(model, x, y, groups=groups, cv=cv, scoring="roc_auc")
    return float(np.mean(scores)), float(np.std(scores, ddof=1))


__all__ = ["c2st_auc", "linear_discriminant"]
