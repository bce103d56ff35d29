"""Aggregation over seeds: mean +- std per arm, paired differences vs the baseline.

Runs of different arms with the same seed share the validation split, the classifier
initialisation and the batch order, so arm-minus-baseline differences are *paired* by
seed; their confidence interval uses Student's t with ``K - 1`` degrees of freedom.
That interval measures training noise (seed to seed) only; the test-set side (a paired
bootstrap over test images, McNemar's test per seed) is :mod:`medaug.experiments.testset`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats as sps

#: metrics reported as "points" (x 100) in sentences
RATE_METRICS = frozenset(
    {"accuracy", "balanced_accuracy", "precision", "recall", "specificity", "f1", "roc_auc"}
)


def describe(values: Sequence[float]) -> dict[str, Any]:
    """``mean``, sample ``std`` (0 for one value), ``n``, ``min``, ``max`` and ``values``."""
    vals = [float(v) for v in values if v is not None and not math.isnan(float(v))]
    if not vals:
        return {"mean": None, "std": None, "n": 0, "min": None, "max": None, "values": []}
    arr = np.asarray(vals)
    return {
        "mean": float(arr.mean()),
        "std": float(arr.std(ddof=1)) if len(arr) > 1 else 0.0,
        "n": len(vals),
        "min": float(arr.min()),
        "max": float(arr.max()),
        "values": vals,
    }


def t_half_width(std: float, n: int, *, confidence: float = 0.95) -> float:
    """Half the width of the Student-t interval of a mean of ``n`` values (0 for one)."""
    if n < 2:
        return 0.0
    return float(sps.t.ppf(0.5 + confidence / 2, n - 1)) * std / math.sqrt(n)


def paired_difference(
    arm: Mapping[int, float | None], base: Mapping[int, float | None], *, confidence: float = 0.95
) -> dict[str, Any]:
    """Mean of ``arm[seed] - base[seed]`` over the seeds both have, with a t interval.

    ``ci_low``/``ci_high`` are ``None`` with fewer than two pairs; ``p_value`` is the
    two-sided paired t-test (``None`` when undefined).
    """
    seeds = sorted(s for s in arm if s in base and arm[s] is not None and base[s] is not None)
    diffs = np.asarray([float(arm[s]) - float(base[s]) for s in seeds])  # type: ignore[arg-type]
    out: dict[str, Any] = {"n": len(seeds), "seeds": seeds, "diffs": diffs.tolist()}
    if len(seeds) == 0:
        out.update(mean=None, std=None, ci_low=None, ci_high=None, p_value=None)
        return out
    mean = float(diffs.mean())
    std = float(diffs.std(ddof=1)) if len(seeds) > 1 else 0.0
    out.update(mean=mean, std=std, ci_low=None, ci_high=None, p_value=None)
    if len(seeds) > 1:
        half = t_half_width(std, len(seeds), confidence=confidence)
        out.update(ci_low=mean - half, ci_high=mean + half)
        if std > 0:
            out["p_value"] = float(
                sps.ttest_rel([arm[s] for s in seeds], [base[s] for s in seeds]).pvalue
            )
    out["confidence"] = confidence
    return out


def summarize(
    runs: Iterable[Mapping[str, Any]], metrics: Sequence[str], *, split: str = "test"
) -> dict[str, dict[str, dict[str, Any]]]:
    """``{arm: {metric: describe(...)}}`` over the completed runs' ``split`` metrics."""
    by_arm: dict[str, dict[str, list[float]]] = {}
    for run in runs:
        values = by_arm.setdefault(run["arm"], {m: [] for m in metrics})
        for m in metrics:
            v = run[split].get(m)
            if v is not None:
                values[m].append(v)
    return {arm: {m: describe(v) for m, v in vals.items()} for arm, vals in by_arm.items()}


def compare(
    runs: Sequence[Mapping[str, Any]],
    metrics: Sequence[str],
    *,
    baseline: str = "baseline",
    split: str = "test",
    confidence: float = 0.95,
) -> dict[str, dict[str, dict[str, Any]]]:
    """``{arm: {metric: paired_difference(arm, baseline)}}`` for every non-baseline arm."""
    table: dict[str, dict[int, dict[str, Any]]] = {}
    for run in runs:
        table.setdefault(run["arm"], {})[int(run["seed"])] = run[split]
    if baseline not in table:
        return {}
    base = table[baseline]
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for arm, per_seed in table.items():
        if arm == baseline:
            continue
        out[arm] = {
            m: paired_difference(
                {s: r.get(m) for s, r in per_seed.items()},
                {s: r.get(m) for s, r in base.items()},
                confidence=confidence,
            )
            for m in metrics
        }
    return out


def sentence(arm: str, metric: str, diff: Mapping[str, Any], *, baseline: str = "baseline") -> str:
    """``"gan vs baseline: +2.1 ± 0.8 accuracy points over 3 seeds (95% CI ...)"``."""
    if diff.get("mean") is None:
        return f"{arm} vs {baseline}: {metric} undefined or no paired runs (n/a)"
    scale, unit = (100.0, " points") if metric in RATE_METRICS else (1.0, "")
    n = diff["n"]
    text = (
        f"{arm} vs {baseline}: {diff['mean'] * scale:+.1f} ± {diff['std'] * scale:.1f} "
        f"{metric}{unit} over {n} seed{'s' if n != 1 else ''}"
    )
    if diff.get("ci_low") is not None:
        conf = round(100 * float(diff.get("confidence", 0.95)))
        lo, hi = diff["ci_low"] * scale, diff["ci_high"] * scale
        verdict = "beyond noise" if lo > 0 or hi < 0 else "within noise"
        text += f" ({conf}% CI {lo:+.1f} to {hi:+.1f}: {verdict})"
    else:
        text += " (one seed: no interval)"
    return text
