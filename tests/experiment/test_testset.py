"""Test-set uncertainty: paired bootstrap over test images and McNemar's test per seed."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from rich.console import Console
from sklearn import metrics as skm

from medaug.errors import MedaugError

# module imports: pytest would collect functions named test_* imported into this file
from medaug.experiments import report, testset
from medaug.training.metrics import compute_metrics, predict_labels

BINARY = ["NORMAL", "PNEUMONIA"]
SIX = ["accuracy", "precision", "recall", "specificity", "f1", "balanced_accuracy"]


def _run(arm: str, seed: int, y: Any, pred: Any, proba: Any = None) -> dict[str, Any]:
    return {
        "arm": arm,
        "seed": seed,
        "predictions": {
            "y_true": [int(v) for v in y],
            "y_pred": [int(v) for v in pred],
            "y_score": None if proba is None else [float(v) for v in proba],
        },
    }


def _fixing_arm(n_fixed: int) -> list[dict[str, Any]]:
    """200 images, baseline wrong on the first 20 (both classes); the arm fixes n_fixed."""
    y = np.array([0, 1] * 100)
    base = y.copy()
    base[:20] = 1 - y[:20]
    arm = base.copy()
    arm[:n_fixed] = y[:n_fixed]
    return [_run("baseline", s, y, base) for s in (0, 1)] + [_run("gan", s, y, arm) for s in (0, 1)]


def test_identical_predictions_give_zero_difference_and_p_one() -> None:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 80)
    pred = np.where(rng.random(80) < 0.8, y, 1 - y)
    proba = rng.random(80)
    runs = [_run(a, s, y, pred, proba) for a in ("baseline", "gan") for s in range(3)]
    out = testset.test_set_comparisons(
        runs,
        [*SIX, "roc_auc"],
        positive=1,
        classes=BINARY,
        bootstrap=testset.BootstrapSettings(n_boot=200),
    )
    assert set(out) == {"gan"}
    for m, b in out["gan"]["bootstrap"].items():
        assert (b["mean"], b["ci_low"], b["ci_high"]) == (0.0, 0.0, 0.0), m
        assert b["n_seeds"] == 3 and b["n_images"] == 80 and b["n_boot"] == 200
        assert b["label"] == "test-set sampling noise only, seeds averaged"
        assert b["reason"] is None
    assert out["gan"]["mcnemar"] == {s: {"b": 0, "c": 0, "p_value": 1.0, "n": 0} for s in range(3)}


def test_arm_that_fixes_errors_is_clearly_better() -> None:
    out = testset.test_set_comparisons(_fixing_arm(15), SIX, positive=1, classes=BINARY)
    acc = out["gan"]["bootstrap"]["accuracy"]
    assert acc["mean"] == pytest.approx(15 / 200)
    assert 0 < acc["ci_low"] <= acc["mean"] <= acc["ci_high"]
    for seed in (0, 1):
        t = out["gan"]["mcnemar"][seed]
        assert (t["b"], t["c"], t["n"]) == (0, 15, 15)
        assert t["p_value"] == pytest.approx(2 * 0.5**15)
    # one fixed image out of 200 is not a clear case: the interval reaches 0
    weak = testset.test_set_comparisons(_fixing_arm(1), ["accuracy"], positive=1, classes=BINARY)
    assert weak["gan"]["bootstrap"]["accuracy"]["ci_low"] <= 0
    assert weak["gan"]["mcnemar"][0]["p_value"] == 1.0


@pytest.mark.parametrize("k", [2, 3])
def test_point_estimate_matches_sklearn_metrics(k: int) -> None:
    rng = np.random.default_rng(k)
    classes = BINARY if k == 2 else ["a", "b", "c"]
    positive = 1 if k == 2 else None
    y = rng.integers(0, k, 150)
    runs, computed = [], {}
    for arm in ("baseline", "gan"):
        for seed in range(3):
            proba = rng.dirichlet(np.ones(k), 150)
            proba[np.arange(150), y] += rng.random() * 0.5
            proba /= proba.sum(axis=1, keepdims=True)
            pred = predict_labels(proba, positive=positive)
            computed[arm, seed] = compute_metrics(y, proba, classes, positive=positive)
            runs.append(_run(arm, seed, y, pred, proba[:, 1] if k == 2 else None))
    metrics = [*SIX, "roc_auc"]
    out = testset.test_set_comparisons(runs, metrics, positive=positive, classes=classes)
    for m in metrics:
        b = out["gan"]["bootstrap"][m]
        if m == "roc_auc" and k == 3:
            assert b["mean"] is None and "probabilities" in b["reason"]
            continue
        expected = np.mean([computed["gan", s][m] - computed["baseline", s][m] for s in range(3)])
        assert b["mean"] == pytest.approx(expected, abs=1e-12), m
    # the accuracy point estimate, straight from sklearn
    direct = np.mean(
        [
            skm.accuracy_score(y, runs[3 + s]["predictions"]["y_pred"])
            - skm.accuracy_score(y, runs[s]["predictions"]["y_pred"])
            for s in range(3)
        ]
    )
    assert out["gan"]["bootstrap"]["accuracy"]["mean"] == pytest.approx(direct)


def test_vectorised_draws_match_a_direct_loop() -> None:
    """The interval equals resampling image indices one draw at a time with sklearn."""
    rng = np.random.default_rng(7)
    y = rng.integers(0, 2, 60)
    preds = {
        (a, s): np.where(rng.random(60) < 0.75, y, 1 - y)
        for a in ("baseline", "gan")
        for s in (0, 1)
    }
    runs = [_run(a, s, y, p) for (a, s), p in preds.items()]
    n_boot = 40
    draw = testset.BootstrapSettings(n_boot=n_boot, seed=5)
    out = testset.test_set_comparisons(runs, ["recall"], positive=1, classes=BINARY, bootstrap=draw)
    draws = np.random.default_rng(5).integers(0, 60, size=(n_boot, 60))
    diffs = []
    for idx in draws:
        if not (y[idx] == 1).any():
            continue
        diffs.append(
            np.mean(
                [
                    skm.recall_score(y[idx], preds["gan", s][idx])
                    - skm.recall_score(y[idx], preds["baseline", s][idx])
                    for s in (0, 1)
                ]
            )
        )
    b = out["gan"]["bootstrap"]["recall"]
    assert b["n_valid"] == len(diffs)
    assert b["ci_low"] == pytest.approx(np.percentile(diffs, 2.5))
    assert b["ci_high"] == pytest.approx(np.percentile(diffs, 97.5))
    again = testset.test_set_comparisons(
        runs, ["recall"], positive=1, classes=BINARY, bootstrap=draw
    )
    assert again == out


def test_draws_without_positives_are_skipped() -> None:
    y = np.zeros(30, dtype=int)
    y[0] = 1  # one positive image: many draws miss it
    base = y.copy()
    arm = y.copy()
    arm[0] = 0
    runs = [_run("baseline", 0, y, base), _run("gan", 0, y, arm)]
    b = testset.test_set_comparisons(runs, ["recall"], positive=1, classes=BINARY)["gan"]
    rec = b["bootstrap"]["recall"]
    assert rec["mean"] == -1.0 and 0 < rec["n_valid"] < rec["n_boot"]
    assert rec["ci_low"] == rec["ci_high"] == -1.0


def test_metric_undefined_on_the_whole_test_set() -> None:
    y = np.zeros(20, dtype=int)  # no PNEUMONIA image at all
    runs = [_run("baseline", 0, y, y), _run("gan", 0, y, np.ones(20, dtype=int))]
    out = testset.test_set_comparisons(runs, SIX, positive=1, classes=BINARY)["gan"]["bootstrap"]
    assert out["recall"]["mean"] is None and out["recall"]["ci_low"] is None
    assert out["recall"]["reason"] == "recall is undefined on this test set (no PNEUMONIA images)"
    assert out["f1"]["mean"] is None
    assert out["accuracy"]["mean"] == -1.0 and out["specificity"]["mean"] == -1.0


def test_runs_without_predictions_give_null_with_reason() -> None:
    y = np.array([0, 1] * 10)
    old = [{"arm": a, "seed": 0, "test": {"accuracy": 0.9}} for a in ("baseline", "gan")]
    out = testset.test_set_comparisons(old, SIX, positive=1, classes=BINARY)["gan"]
    acc = out["bootstrap"]["accuracy"]
    assert acc["mean"] is None and acc["n_seeds"] == 0
    assert acc["reason"].startswith("no seed where both arms kept per-image predictions")
    assert out["mcnemar"][0]["p_value"] is None and "predictions" in out["mcnemar"][0]["reason"]
    text = testset.test_set_sentence("gan", "accuracy", acc)
    assert text.startswith("gan vs baseline: no test-set bootstrap for accuracy (no seed where")
    # a resumed experiment: seed 0 is old, seed 1 has predictions
    mixed = [*old, _run("baseline", 1, y, y), _run("gan", 1, y, 1 - y)]
    part = testset.test_set_comparisons(mixed, ["accuracy"], positive=1, classes=BINARY)["gan"]
    assert part["bootstrap"]["accuracy"]["seeds"] == [1]
    assert part["bootstrap"]["accuracy"]["mean"] == -1.0
    assert part["mcnemar"][0]["b"] is None and part["mcnemar"][1]["b"] == 20


def test_bad_input_is_a_medaug_error() -> None:
    y = np.array([0, 1, 0, 1])
    runs = [_run("baseline", 0, y, y), _run("gan", 0, 1 - y, y)]
    with pytest.raises(MedaugError, match="different test set"):
        testset.test_set_comparisons(runs, ["accuracy"], positive=1, classes=BINARY)
    good = [_run("baseline", 0, y, y), _run("gan", 0, y, y)]
    with pytest.raises(MedaugError, match="unknown test-set metric 'loss'"):
        testset.test_set_comparisons(good, ["loss"], positive=1, classes=BINARY)
    with pytest.raises(MedaugError, match=r"outside 0\.\.1"):
        testset.test_set_comparisons(
            [_run("baseline", 0, y, [0, 2, 0, 1])], ["accuracy"], positive=1, classes=BINARY
        )
    assert testset.test_set_comparisons(good[1:], ["accuracy"], positive=1, classes=BINARY) == {}
    for bad, message in (
        (testset.BootstrapSettings(n_boot=0), "n_boot must be at least 1, got 0"),
        (testset.BootstrapSettings(confidence=1.0), "confidence must be between 0 and 1"),
    ):
        with pytest.raises(MedaugError, match=message):
            testset.test_set_comparisons(
                good, ["accuracy"], positive=1, classes=BINARY, bootstrap=bad
            )


def test_sentences() -> None:
    out = testset.test_set_comparisons(_fixing_arm(15), SIX, positive=1, classes=BINARY)
    acc = out["gan"]["bootstrap"]["accuracy"]
    lo, hi = 100 * acc["ci_low"], 100 * acc["ci_high"]
    lines = testset.test_set_sentences(out)
    assert lines[0] == (
        f"gan vs baseline: +7.5 accuracy points, test-set bootstrap 95% CI {lo:+.1f} to "
        f"{hi:+.1f} (images resampled; 2 seeds averaged); McNemar p per seed: <0.001, <0.001"
    )
    assert len(lines) == 3 and "McNemar" not in lines[1] and " precision points" in lines[1]
    assert testset.format_p_value(0.2) == "0.20" and testset.format_p_value(0.004) == "0.004"


def _results(**extra: Any) -> dict[str, Any]:
    test = {"accuracy": 0.9, "precision": 0.9, "recall": 0.9, "specificity": 0.9}
    tc = {
        "epochs": 1,
        "batch_size": 8,
        "lr": 1e-3,
        "class_weights": "balanced",
        "monitor": "balanced_accuracy",
        "patience": 3,
        "threshold": "calibrate",
    }
    stat = {"mean": 0.9, "std": 0.01, "n": 2}
    diff = {"mean": 0.02, "std": 0.01, "n": 2, "ci_low": -0.1, "ci_high": 0.14}
    return {
        "settings": {
            "classifier": "simple-cnn",
            "generator": "dcgan",
            "image_size": 32,
            "test": "test",
            "train_config": tc,
            "synthetic": 5,
            "strategy": None,
            "gen_epochs": 1,
            "generator_options": {},
            "augment": "strong",
            "classic_augment": "standard",
            "val_fraction": 0.2,
        },
        "positive_class": "PNEUMONIA",
        "summary": {a: {m: stat for m in report.METRIC_NAMES} for a in ("baseline", "gan")},
        "comparisons": {"gan": {m: diff for m in report.METRIC_NAMES}},
        "sentences": ["gan vs baseline: +2.0 ± 1.0 accuracy points over 2 seeds"],
        "runs": [
            {
                "arm": a,
                "seed": 0,
                "n_train": 10,
                "best_epoch": 1,
                "threshold": 0.5,
                "test": {**test, "confusion_matrix": [[1, 0], [0, 1]]},
            }
            for a in ("baseline", "gan")
        ],
        "versions": {"medaug": "0"},
        "data": {"train": {}, "test": {}, "channels": 1},
        **extra,
    }


def test_report_section_and_terminal_output() -> None:
    ts = testset.test_set_comparisons(
        _fixing_arm(15), list(report.METRIC_NAMES), positive=1, classes=BINARY
    )
    md = report.markdown(_results(test_set=ts))
    title = "## Test-set uncertainty (paired bootstrap over test images; McNemar per seed)"
    assert md.index("## Paired differences") < md.index(title) < md.index("## Per run")
    assert "training noise" in md and "test-set sampling noise only" in md
    assert "| gan | +7.5 [" in md and "| gan | 1 | 0 | 15 | <0.001 |" in md
    assert "- gan vs baseline: +7.5 accuracy points, test-set bootstrap 95% CI" in md
    assert "- ROC-AUC n/a: roc_auc needs stored positive-class probabilities" in md
    console = Console(record=True, width=200)
    console.print(report.rich_summary(_results(test_set=ts)))
    text = console.export_text()
    assert "gan vs baseline: +2.0 ± 1.0" in text and "test-set bootstrap 95% CI" in text
    # older results without the test-set side
    old = report.markdown(_results())
    assert "Test-set uncertainty" not in old and "## Per run" in old
    console.print(report.rich_summary(_results()))
