"""The experiment report's plain verdict: best arm, margins with intervals, and "no
benefit over classic oversampling" when that is what was measured."""

from __future__ import annotations

from typing import Any

from medaug.experiments.verdict import NO_BENEFIT, verdict


def _runs(scores: dict[str, list[float]]) -> list[dict[str, Any]]:
    return [
        {"arm": arm, "seed": seed, "test": {"balanced_accuracy": value}}
        for arm, values in scores.items()
        for seed, value in enumerate(values)
    ]


def test_classic_best_and_gan_no_better_says_no_benefit() -> None:
    runs = _runs(
        {
            "baseline": [0.70, 0.72, 0.71],
            "gan": [0.74, 0.71, 0.73],
            "classic": [0.80, 0.81, 0.79],
        }
    )
    text = verdict(runs, ("baseline", "gan", "classic"))
    assert text.startswith("best arm: classic (balanced accuracy 0.800)")
    assert "+9.0 points [95% CI" in text and "over baseline" in text
    assert "gan vs classic: -7.3 points [95% CI" in text and NO_BENEFIT in text


def test_a_clear_gan_gain_over_classic_is_named() -> None:
    runs = _runs({"gan": [0.90, 0.91, 0.92], "classic": [0.80, 0.80, 0.81]})
    text = verdict(runs, ("gan", "classic"))
    assert text.startswith("best arm: gan")
    assert "gan beats classic oversampling by +10.7 points [95% CI" in text
    assert NO_BENEFIT not in text


def test_one_seed_gives_no_interval_and_no_claimed_benefit() -> None:
    runs = _runs({"baseline": [0.7], "gan": [0.9], "classic": [0.8]})
    text = verdict(runs, ("baseline", "gan", "classic"))
    assert text.startswith("best arm: gan")
    assert "+10.0 points (no interval: one seed)" in text and NO_BENEFIT in text


def test_undefined_metric_gives_no_verdict() -> None:
    runs = [{"arm": "baseline", "seed": 0, "test": {"balanced_accuracy": None}}]
    assert verdict(runs, ("baseline",)).startswith("no verdict")
