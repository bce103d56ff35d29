"""Classification metrics, all computed by scikit-learn.

Binary problems have an explicit *positive* class (the disease): precision, recall
(sensitivity), specificity and F1 refer to it, and predictions use a decision
``threshold`` on its probability (calibrated on the validation split, see
:func:`choose_threshold`). Problems with more classes report macro averages and
one-vs-rest macro ROC-AUC.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn import metrics as skm

from medaug.errors import ConfigError

#: the headline metrics, in report order
METRIC_NAMES: tuple[str, ...] = (
    "accuracy",
    "precision",
    "recall",
    "specificity",
    "f1",
    "balanced_accuracy",
    "roc_auc",
)

_NEGATIVE_NAME = re.compile(r"(normal|healthy|negative|benign|control|no[_\- ]?finding)", re.I)


def resolve_positive_class(classes: Sequence[str], positive: str | None = None) -> int | None:
    """Index of the positive class of a binary problem (``None`` for multi-class).

    ``positive`` names it explicitly. Otherwise, when exactly one of the two classes is
    named like a negative finding (normal, healthy, negative, benign, control,
    no finding), the *other* one is positive; else the second class in sorted order.
    """
    classes = list(classes)
    if positive is not None:
        if positive not in classes:
            raise ConfigError(
                f"{{positive_class}} {positive!r} is not a class; classes: {', '.join(classes)}",
                "positive_class",
            )
        if len(classes) != 2:
            raise ConfigError(
                "{positive_class} only applies to two-class problems", "positive_class"
            )
        return classes.index(positive)
    if len(classes) != 2:
        return None
    negative = [i for i, c in enumerate(classes) if _NEGATIVE_NAME.search(c)]
    if len(negative) == 1:
        return 1 - negative[0]
    return 1


def predict_labels(
    proba: np.ndarray, *, positive: int | None = None, threshold: float = 0.5
) -> np.ndarray:
    """Class indices from probabilities ``(N, K)``: thresholded for binary, argmax otherwise."""
    proba = np.asarray(proba, dtype=np.float64)
    if positive is None or proba.shape[1] != 2:
        return np.asarray(proba.argmax(axis=1), dtype=np.int64)
    negative = 1 - positive
    return np.where(proba[:, positive] >= threshold, positive, negative).astype(np.int64)


def choose_threshold(y_true: np.ndarray, proba: np.ndarray, positive: int) -> float:
    """The decision threshold maximising Youden's J (= balanced accuracy - 0.5).

    Every threshold in an interval between two consecutive validation scores gives the
    same predictions, so the best J is reached on one or more intervals. Within them the
    threshold closest to 0.5 is taken (the natural point of a class-weighted loss), kept
    a quarter of the interval away from its ends so that it never sits on a validation
    score. A separable validation set therefore keeps 0.5, and the threshold only moves
    when validation errors say so. Falls back to 0.5 without both classes.
    """
    y = (np.asarray(y_true) == positive).astype(int)
    if y.min() == y.max():
        return 0.5
    scores = np.asarray(proba, dtype=np.float64)[:, positive]
    fpr, tpr, thresholds = skm.roc_curve(y, scores, drop_intermediate=False)
    j = tpr - fpr
    ends = np.clip(thresholds, 0.0, 1.0)
    # predicting positive for score >= t gives point i for t in (ends[i + 1], ends[i]]
    best_t, best_gap = 0.5, float("inf")
    for i in np.flatnonzero(j >= j.max() - 1e-12):
        hi = float(ends[i])
        lo = float(ends[i + 1]) if i + 1 < len(ends) else 0.0
        margin = (hi - lo) / 4
        t = min(max(0.5, lo + margin), hi - margin)
        if abs(t - 0.5) < best_gap:
            best_t, best_gap = t, abs(t - 0.5)
    return float(min(max(best_t, 1e-6), 1 - 1e-6))


def _safe(value: float) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def compute_metrics(
    y_true: Sequence[int] | np.ndarray,
    proba: np.ndarray,
    classes: Sequence[str],
    *,
    positive: int | None = None,
    threshold: float = 0.5,
) -> dict[str, Any]:
    """Every metric of one prediction set.

    ``y_true`` holds class indices, ``proba`` the predicted probabilities ``(N, K)``.
    Returns accuracy, balanced_accuracy, precision, recall, specificity, f1, roc_auc,
    each ``None`` when undefined on these images (a class absent from ``y_true``, nothing
    predicted positive...) with the reason in ``undefined`` (metric -> reason), the
    confusion matrix (rows = true class, columns = predicted, in ``classes`` order), and a
    per-class report.
    """
    classes = list(classes)
    k = len(classes)
    y = np.asarray(y_true, dtype=np.int64)
    proba = np.asarray(proba, dtype=np.float64)
    if proba.ndim != 2 or proba.shape != (len(y), k):
        raise ValueError(f"proba must be (N, {k}), got {proba.shape} for N={len(y)}")
    labels = list(range(k))
    pred = predict_labels(proba, positive=positive, threshold=threshold)
    cm = skm.confusion_matrix(y, pred, labels=labels)
    out: dict[str, Any] = {
        "n": len(y),
        "accuracy": float(skm.accuracy_score(y, pred)),
        "balanced_accuracy": _balanced_accuracy(y, pred, labels),
    }
    present = np.unique(y)
    absent = [classes[c] for c in labels if c not in present]
    undefined: dict[str, str] = {}
    if positive is not None and k == 2:
        negative = 1 - positive
        kw: dict[str, Any] = {"labels": labels, "zero_division": 0}
        out["precision"] = float(skm.precision_score(y, pred, pos_label=positive, **kw))
        out["recall"] = float(skm.recall_score(y, pred, pos_label=positive, **kw))
        out["specificity"] = float(skm.recall_score(y, pred, pos_label=negative, **kw))
        out["f1"] = float(skm.f1_score(y, pred, pos_label=positive, **kw))
        out["roc_auc"] = (
            float(skm.roc_auc_score(y == positive, proba[:, positive]))
            if len(present) == 2
            else None
        )
        if not (y == positive).any():
            for name in ("recall", "f1", "roc_auc"):
                undefined[name] = f"no {classes[positive]} (positive) images"
        if not (y == negative).any():
            for name in ("specificity", "roc_auc"):
                undefined[name] = f"no {classes[negative]} (negative) images"
        if not (pred == positive).any():
            undefined["precision"] = f"nothing was predicted {classes[positive]}"
            undefined.setdefault("f1", f"nothing was predicted {classes[positive]}")
        out["positive_class"] = classes[positive]
        out["threshold"] = float(threshold)
    else:
        kw = {"labels": labels, "average": "macro", "zero_division": 0}
        out["precision"] = float(skm.precision_score(y, pred, **kw))
        out["recall"] = float(skm.recall_score(y, pred, **kw))
        mcm = skm.multilabel_confusion_matrix(y, pred, labels=labels)
        tn, fp = mcm[:, 0, 0], mcm[:, 0, 1]
        with np.errstate(divide="ignore", invalid="ignore"):
            spec = np.where(tn + fp > 0, tn / np.maximum(tn + fp, 1), np.nan)
        out["specificity"] = _safe(float(np.nanmean(spec))) if np.isfinite(spec).any() else None
        out["f1"] = float(skm.f1_score(y, pred, **kw))
        out["roc_auc"] = (
            float(skm.roc_auc_score(y, proba, multi_class="ovr", average="macro", labels=labels))
            if len(present) == k
            else None
        )
        if absent:
            for name in ("recall", "f1", "roc_auc"):
                undefined[name] = f"no {', '.join(absent)} images"
        out["positive_class"] = None
        out["threshold"] = None
    for name in undefined:
        out[name] = None
    #: metric -> why it is undefined on these images (reported as null, never as 0)
    out["undefined"] = undefined
    out["confusion_matrix"] = cm.tolist()
    report = skm.classification_report(
        y, pred, labels=labels, target_names=classes, output_dict=True, zero_division=0
    )
    out["per_class"] = {c: report[c] for c in classes}
    out["classes"] = classes
    return out


def _balanced_accuracy(y: np.ndarray, pred: np.ndarray, labels: list[int]) -> float:
    # sklearn warns when a class is absent from y_true; recall over present classes only
    present = [c for c in labels if (y == c).any()]
    return float(skm.recall_score(y, pred, labels=present, average="macro", zero_division=0))
