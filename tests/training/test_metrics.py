"""Metrics against hand-checked confusion matrices."""

from __future__ import annotations

import numpy as np
import pytest

from medaug.errors import MedaugError
from medaug.training.metrics import (
    choose_threshold,
    compute_metrics,
    predict_labels,
    resolve_positive_class,
)

CLASSES = ["NORMAL", "PNEUMONIA"]


def _binary(p_pos: list[float]) -> np.ndarray:
    p = np.asarray(p_pos)
    return np.stack([1 - p, p], axis=1)


def test_binary_metrics_match_hand_computed_values() -> None:
    # true:  N N N N P P P P P P ; predicted at 0.5: N N P N P P P N P P
    y = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 1])
    proba = _binary([0.1, 0.2, 0.6, 0.3, 0.9, 0.8, 0.7, 0.4, 0.95, 0.6])
    m = compute_metrics(y, proba, CLASSES, positive=1)
    # confusion [[TN=3, FP=1], [FN=1, TP=5]]
    assert m["confusion_matrix"] == [[3, 1], [1, 5]]
    assert m["accuracy"] == pytest.approx(8 / 10)
    assert m["precision"] == pytest.approx(5 / 6)
    assert m["recall"] == pytest.approx(5 / 6)
    assert m["specificity"] == pytest.approx(3 / 4)
    assert m["f1"] == pytest.approx(5 / 6)
    assert m["balanced_accuracy"] == pytest.approx((5 / 6 + 3 / 4) / 2)
    # pairs (pos, neg) ranked correctly: 24 pairs, 0.4 loses to 0.6 and ties... count by hand
    assert m["roc_auc"] == pytest.approx(0.9375)
    assert m["positive_class"] == "PNEUMONIA"
    assert m["per_class"]["NORMAL"]["support"] == 4


def test_threshold_changes_predictions() -> None:
    y = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 1])
    proba = _binary([0.1, 0.2, 0.6, 0.3, 0.9, 0.8, 0.7, 0.4, 0.95, 0.6])
    m = compute_metrics(y, proba, CLASSES, positive=1, threshold=0.65)
    # positives predicted: 0.9 0.8 0.7 0.95 -> TP 4, FN 2; negatives all below -> TN 4
    assert m["confusion_matrix"] == [[4, 0], [2, 4]]
    assert m["precision"] == 1.0
    assert m["recall"] == pytest.approx(4 / 6)
    assert m["threshold"] == 0.65


def test_positive_class_zero_swaps_precision_and_specificity_roles() -> None:
    y = np.array([0, 0, 1, 1, 1])
    proba = _binary([0.2, 0.7, 0.8, 0.9, 0.1])  # p(class 1)
    m = compute_metrics(y, proba, ["DISEASE", "HEALTHY"], positive=0)
    # predict DISEASE when p(DISEASE) = 1 - p >= 0.5: rows 0 (0.8), 4 (0.9)
    assert m["confusion_matrix"] == [[1, 1], [1, 2]]
    assert m["recall"] == pytest.approx(1 / 2)
    assert m["precision"] == pytest.approx(1 / 2)
    assert m["specificity"] == pytest.approx(2 / 3)


def test_multiclass_macro_and_ovr_auc() -> None:
    y = np.array([0, 0, 1, 1, 2, 2])
    proba = np.array(
        [
            [0.8, 0.1, 0.1],
            [0.3, 0.6, 0.1],
            [0.1, 0.8, 0.1],
            [0.2, 0.7, 0.1],
            [0.1, 0.2, 0.7],
            [0.5, 0.1, 0.4],
        ]
    )
    m = compute_metrics(y, proba, ["a", "b", "c"])
    assert m["confusion_matrix"] == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    assert m["accuracy"] == pytest.approx(4 / 6)
    assert m["recall"] == pytest.approx((1 / 2 + 1 + 1 / 2) / 3)
    assert m["precision"] == pytest.approx((1 / 2 + 2 / 3 + 1) / 3)
    # specificity per class: a 3/4, b 3/4, c 4/4
    assert m["specificity"] == pytest.approx((3 / 4 + 3 / 4 + 1) / 3)
    assert 0.5 < m["roc_auc"] <= 1.0
    assert m["positive_class"] is None


def test_auc_undefined_with_one_class() -> None:
    m = compute_metrics(np.array([1, 1]), _binary([0.7, 0.2]), CLASSES, positive=1)
    assert m["roc_auc"] is None
    assert m["accuracy"] == 0.5


def test_positive_class_rule() -> None:
    assert resolve_positive_class(["NORMAL", "PNEUMONIA"]) == 1
    assert resolve_positive_class(["COVID", "healthy"]) == 0
    assert resolve_positive_class(["cat", "dog"]) == 1
    assert resolve_positive_class(["a", "b", "c"]) is None
    assert resolve_positive_class(["NORMAL", "PNEUMONIA"], "NORMAL") == 0
    with pytest.raises(MedaugError):
        resolve_positive_class(["NORMAL", "PNEUMONIA"], "VIRUS")


def test_youden_threshold_is_middle_of_best_plateau() -> None:
    y = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 1])
    proba = _binary([0.1, 0.2, 0.6, 0.3, 0.9, 0.8, 0.7, 0.4, 0.95, 0.6])
    # J is best (1 - 1/4) for thresholds in (0.3, 0.4]: closest to 0.5 with a 1/4 margin
    assert choose_threshold(y, proba, 1) == pytest.approx(0.375)
    sep = _binary([0.05, 0.1, 0.9, 0.97])
    t = choose_threshold(np.array([0, 0, 1, 1]), sep, 1)
    assert t == 0.5  # separable: no evidence to move away from 0.5
    # positives scored low: the best interval is (0.1, 0.2] -> 0.175
    low = _binary([0.02, 0.05, 0.08, 0.1, 0.2, 0.3, 0.35])
    assert choose_threshold(np.array([0, 0, 0, 0, 1, 1, 1]), low, 1) == pytest.approx(0.175)
    assert choose_threshold(np.array([1, 1]), sep[:2], 1) == 0.5
    assert list(predict_labels(sep, positive=1, threshold=t)) == [0, 0, 1, 1]


def test_metrics_undefined_on_the_images_are_null_with_a_reason() -> None:
    proba = np.array([[0.2, 0.8], [0.3, 0.7], [0.9, 0.1]])
    only_positive = compute_metrics([1, 1, 1], proba, ["NORMAL", "PNEUMONIA"], positive=1)
    assert only_positive["specificity"] is None and only_positive["roc_auc"] is None
    assert only_positive["recall"] == pytest.approx(2 / 3)
    assert set(only_positive["undefined"]) == {"specificity", "roc_auc"}
    assert "no NORMAL (negative) images" in only_positive["undefined"]["specificity"]
    never_positive = compute_metrics(
        [0, 1, 1], np.array([[0.9, 0.1]] * 3), ["NORMAL", "PNEUMONIA"], positive=1
    )
    assert never_positive["precision"] is None and never_positive["recall"] == 0.0
    three = compute_metrics([0, 1, 1], np.eye(3)[[0, 1, 1]], ["a", "b", "c"])
    assert three["recall"] is None and "no c images" in three["undefined"]["recall"]
    defined = compute_metrics([0, 1, 0], proba, ["NORMAL", "PNEUMONIA"], positive=1)
    assert defined["undefined"] == {} and defined["specificity"] == 0.5
