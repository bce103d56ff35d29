"""Aggregation and paired differences with hand-checked numbers."""

from __future__ import annotations

import math

import pytest

from medaug.experiments.stats import compare, describe, paired_difference, sentence, summarize


def test_describe() -> None:
    d = describe([0.8, 0.9, 1.0])
    assert d["mean"] == pytest.approx(0.9) and d["std"] == pytest.approx(0.1)
    assert d["n"] == 3
    assert describe([0.5])["std"] == 0.0
    assert describe([])["mean"] is None


def test_paired_difference_t_interval() -> None:
    base = {0: 0.80, 1: 0.82, 2: 0.84}
    arm = {0: 0.81, 1: 0.84, 2: 0.87}  # diffs 0.01, 0.02, 0.03: mean 0.02, sd 0.01
    d = paired_difference(arm, base)
    half = 4.302652729911275 * 0.01 / math.sqrt(3)  # t(0.975, 2)
    assert d["mean"] == pytest.approx(0.02) and d["std"] == pytest.approx(0.01)
    assert d["ci_low"] == pytest.approx(0.02 - half) and d["ci_high"] == pytest.approx(0.02 + half)
    assert d["n"] == 3 and 0 < d["p_value"] < 0.1
    one = paired_difference({0: 0.9}, {0: 0.8, 1: 0.7})
    assert one["n"] == 1 and one["ci_low"] is None and one["mean"] == pytest.approx(0.1)


def test_summarize_compare_and_sentence() -> None:
    runs = [
        {"arm": "baseline", "seed": s, "test": {"accuracy": a}}
        for s, a in enumerate([0.8, 0.82, 0.84])
    ] + [
        {"arm": "gan", "seed": s, "test": {"accuracy": a}} for s, a in enumerate([0.81, 0.84, 0.87])
    ]
    summary = summarize(runs, ["accuracy"])
    assert summary["gan"]["accuracy"]["mean"] == pytest.approx(0.84)
    comp = compare(runs, ["accuracy"])
    assert set(comp) == {"gan"}
    text = sentence("gan", "accuracy", comp["gan"]["accuracy"])
    assert text == (
        "gan vs baseline: +2.0 ± 1.0 accuracy points over 3 seeds (95% CI -0.5 to +4.5: "
        "within noise)"
    )
    strong = paired_difference({0: 0.83, 1: 0.86, 2: 0.89}, {0: 0.80, 1: 0.82, 2: 0.84})
    assert sentence("gan", "accuracy", strong).endswith("(95% CI +1.5 to +6.5: beyond noise)")
    noisy = {"mean": 0.01, "std": 0.05, "n": 3, "ci_low": -0.1, "ci_high": 0.12, "confidence": 0.95}
    assert "within noise" in sentence("classic", "recall", noisy)
