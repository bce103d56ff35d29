"""The experiment's plain verdict: which arm is best, by how much, and whether the
generator beat classic oversampling.

Arms are ranked by their mean test balanced accuracy over seeds (it weighs the rare
class as much as the common one, so a classifier that calls every film the majority class
does not win). Differences are paired by seed, with a t interval over seeds
(:func:`~medaug.experiments.stats.compare`); one seed gives no interval, and a difference
whose interval reaches zero is not called a benefit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from medaug.experiments.stats import compare, summarize

#: the metric arms are ranked by
VERDICT_METRIC = "balanced_accuracy"
NO_BENEFIT = "no benefit over classic oversampling"


def _points(diff: Mapping[str, Any]) -> str:
    """``+2.1 points [95% CI +0.4, +3.8]`` (or ``(one seed: no interval)``)."""
    text = f"{100 * diff['mean']:+.1f} points"
    if diff.get("ci_low") is None:
        return text + " (no interval: one seed)"
    return text + f" [95% CI {100 * diff['ci_low']:+.1f}, {100 * diff['ci_high']:+.1f}]"


def _clear_gain(diff: Mapping[str, Any]) -> bool:
    """Whether ``diff`` is positive with an interval above zero."""
    return diff.get("ci_low") is not None and diff["ci_low"] > 0


def verdict(
    runs: Sequence[Mapping[str, Any]], arms: Sequence[str], metric: str = VERDICT_METRIC
) -> str:
    """One sentence: the best arm by mean test ``metric``, its margin over every other
    arm, and the best gan arm (``gan``, ``gan-<filter>``) against classic oversampling
    when both ran."""
    summary = summarize(runs, [metric])
    means = {
        arm: summary[arm][metric]["mean"]
        for arm in arms
        if arm in summary and summary[arm][metric]["mean"] is not None
    }
    label = metric.replace("_", " ")
    if not means:
        return f"no verdict: {label} is undefined on the test folder"
    best = max(means, key=lambda arm: means[arm])  # a tie goes to the arm listed first
    margins = []
    for other in means:
        if other == best:
            continue
        diff = compare(runs, [metric], baseline=other)[best][metric]
        if diff.get("mean") is not None:
            margins.append(f"{_points(diff)} over {other}")
    text = f"best arm: {best} ({label} {means[best]:.3f})"
    if margins:
        text += ", " + "; ".join(margins)
    generative = [arm for arm in means if arm.startswith("gan")]
    if generative and "classic" in means:
        gan = max(generative, key=lambda arm: means[arm])  # the best of the gan arms
        diff = compare(runs, [metric], baseline="classic")[gan][metric]
        if diff.get("mean") is not None:
            if _clear_gain(diff):
                text += f". {gan} beats classic oversampling by {_points(diff)}"
            else:
                text += f". {gan} vs classic: {_points(diff)}: {NO_BENEFIT}"
    return text + "."


__all__ = ["NO_BENEFIT", "VERDICT_METRIC", "verdict"]
