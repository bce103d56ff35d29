"""Test-set uncertainty: a paired bootstrap over test images and McNemar's test per seed.

The seed-level t interval (:mod:`medaug.experiments.stats`) measures *training* noise:
how much the arm-minus-baseline difference moves from seed to seed. It says nothing
about the finite test set. Here the trained models are held fixed and the test images
are resampled with replacement: every draw uses the same image indices for every arm
and every seed, so the differences stay paired image by image, and the difference of
each draw is averaged over the seeds both arms have. Its percentile interval measures
test-set sampling noise only.

McNemar's exact test compares an arm with the baseline of the same seed image by
image: ``b`` counts images the baseline classifies correctly and the arm wrongly, ``c``
the reverse; ``p_value`` is the two-sided binomial test of ``c`` out of ``b + c`` at 1/2.

Each run record carries ``"predictions": {"y_true": [...], "y_pred": [...], "y_score":
[...] | None}`` over the same ordered test set (class indices; ``y_score`` is the
positive-class probability of a binary problem; see
:class:`medaug.training.record.Predictions`). Metrics follow
:func:`medaug.training.metrics.compute_metrics` (binary: of the ``positive`` class;
otherwise macro averages). A metric is *undefined* in a draw when a class it divides by
is absent from that draw's true labels (recall, F1 and specificity of a binary problem;
macro recall and F1 when any class is absent; ROC-AUC without both classes); such draws
are skipped for that metric. Precision of a class that is never predicted counts as 0,
as in scikit-learn (``zero_division=0``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats as sps

from medaug.errors import MedaugError
from medaug.experiments.stats import RATE_METRICS

#: what the bootstrap interval measures, stored next to every figure
BOOTSTRAP_LABEL = "test-set sampling noise only, seeds averaged"
#: metrics the bootstrap supports (ROC-AUC needs stored positive-class probabilities)
TEST_SET_METRICS: tuple[str, ...] = (
    "accuracy",
    "precision",
    "recall",
    "specificity",
    "f1",
    "balanced_accuracy",
    "roc_auc",
)
_NO_SEED = "no seed where both arms kept per-image predictions (runs of an older medaug)"
_NO_RUN = "a run of this seed kept no per-image predictions (an older medaug)"


@dataclass(frozen=True)
class _Predictions:
    """One run's predictions over the ordered test set."""

    y_true: np.ndarray
    y_pred: np.ndarray
    proba: np.ndarray | None


@dataclass(frozen=True)
class BootstrapSettings:
    """How the paired bootstrap over test images is drawn: ``n_boot`` draws, a
    ``confidence`` percentile interval, the ``seed`` of the draws (checked by
    :func:`test_set_comparisons`)."""

    n_boot: int = 2000
    confidence: float = 0.95
    seed: int = 0


@dataclass(frozen=True)
class _TestSet:
    """The ordered test set: its true labels, the class names, the positive class index."""

    y_true: np.ndarray
    classes: Sequence[str]
    positive: int | None


def _predictions(run: Mapping[str, Any], k: int) -> _Predictions | None:
    """The run's stored predictions (``None`` for an older record without them)."""
    raw = run.get("predictions")
    if not raw:
        return None
    where = f"run {run.get('arm')} seed {run.get('seed')}"
    try:
        y_true = np.asarray(raw["y_true"], dtype=np.int64)
        y_pred = np.asarray(raw["y_pred"], dtype=np.int64)
        score = raw.get("y_score")
        proba = None if score is None else np.asarray(score, dtype=np.float64)
    except (KeyError, TypeError, ValueError) as exc:
        raise MedaugError(f"{where}: malformed predictions ({exc})") from None
    if y_true.ndim != 1 or not y_true.size or y_pred.shape != y_true.shape:
        raise MedaugError(f"{where}: y_true and y_pred must be non-empty lists of the same length")
    if proba is not None and proba.shape != y_true.shape:
        raise MedaugError(f"{where}: proba must have one value per test image")
    for name, arr in (("y_true", y_true), ("y_pred", y_pred)):
        if arr.size and (arr.min() < 0 or arr.max() >= k):
            raise MedaugError(f"{where}: {name} holds class indices outside 0..{k - 1}")
    return _Predictions(y_true, y_pred, proba)


def _ratio(num: np.ndarray, den: np.ndarray, *, empty: float) -> np.ndarray:
    """``num / den`` with ``empty`` where ``den`` is 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), empty)


def _from_confusion(metric: str, cm: np.ndarray, positive: int | None) -> np.ndarray:
    """``metric`` of every row of ``cm`` ``(R, K, K)`` (rows true, columns predicted)."""
    k = cm.shape[-1]
    tp = np.diagonal(cm, axis1=1, axis2=2)
    n_true, n_pred = cm.sum(axis=2), cm.sum(axis=1)
    total = cm.sum(axis=(1, 2))
    nan = float("nan")
    if metric == "accuracy":
        return _ratio(tp.sum(axis=1), total, empty=nan)
    if metric == "balanced_accuracy":  # recall averaged over the classes present
        present = n_true > 0
        recall = _ratio(tp, n_true, empty=0.0)
        return _ratio(recall.sum(axis=1), present.sum(axis=1).astype(float), empty=nan)
    if positive is not None and k == 2:
        p, q = positive, 1 - positive
        if metric == "precision":
            return _ratio(tp[:, p], n_pred[:, p], empty=0.0)
        if metric == "recall":
            return _ratio(tp[:, p], n_true[:, p], empty=nan)
        if metric == "specificity":
            return _ratio(tp[:, q], n_true[:, q], empty=nan)
        if metric == "f1":
            f1 = _ratio(2 * tp[:, p], n_true[:, p] + n_pred[:, p], empty=0.0)
            return np.where(n_true[:, p] > 0, f1, nan)
    else:
        all_present = (n_true > 0).all(axis=1)
        if metric == "precision":
            return _ratio(tp, n_pred, empty=0.0).mean(axis=1)
        if metric == "recall":
            return np.where(all_present, _ratio(tp, n_true, empty=0.0).mean(axis=1), nan)
        if metric == "f1":
            f1 = _ratio(2 * tp, n_true + n_pred, empty=0.0).mean(axis=1)
            return np.where(all_present, f1, nan)
        if metric == "specificity":  # per class tn / (tn + fp), mean over defined classes
            negatives = total[:, None] - n_true
            tn = negatives - (n_pred - tp)
            spec = _ratio(tn, negatives, empty=nan)
            defined = np.isfinite(spec)
            return _ratio(
                np.where(defined, spec, 0.0).sum(axis=1),
                defined.sum(axis=1).astype(float),
                empty=nan,
            )
    raise MedaugError(f"unknown test-set metric {metric!r}; known: {', '.join(TEST_SET_METRICS)}")


def _roc_auc(weights: np.ndarray, y_pos: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Weighted Mann-Whitney AUC (ties count 1/2, as ``sklearn.metrics.roc_auc_score``)."""
    order = np.argsort(score, kind="stable")
    s, pos = score[order], y_pos[order]
    w = weights[:, order]
    n = len(s)
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    group = np.cumsum(np.r_[True, s[1:] != s[:-1]]) - 1
    first = starts[group]
    last = np.r_[starts[1:], n][group]
    cum_neg = np.concatenate([np.zeros((len(w), 1)), np.cumsum(w * ~pos, axis=1)], axis=1)
    below, upto = cum_neg[:, first[pos]], cum_neg[:, last[pos]]
    wins = (w[:, pos] * (below + 0.5 * (upto - below))).sum(axis=1)
    n_pos, n_neg = w[:, pos].sum(axis=1), w[:, ~pos].sum(axis=1)
    return _ratio(wins, n_pos * n_neg, empty=float("nan"))


class _Scorer:
    """Every metric of every run on the full test set (row 0) and on each bootstrap draw.

    ``weights`` ``(1 + n_boot, n_images)``: how often each image counts in each row.
    """

    def __init__(self, weights: np.ndarray, k: int, positive: int | None) -> None:
        self.weights, self.k, self.positive = weights, k, positive
        self._cm: dict[int, np.ndarray] = {}

    def __call__(self, metric: str, preds: _Predictions) -> np.ndarray | None:
        """``(1 + n_boot,)`` values, or ``None`` when the run lacks what ``metric`` needs."""
        if metric == "roc_auc":
            if preds.proba is None or self.positive is None or self.k != 2:
                return None
            return _roc_auc(self.weights, preds.y_true == self.positive, preds.proba)
        key = id(preds)
        if key not in self._cm:
            cells = np.zeros((len(preds.y_true), self.k * self.k))
            cells[np.arange(len(preds.y_true)), preds.y_true * self.k + preds.y_pred] = 1.0
            self._cm[key] = (self.weights @ cells).reshape(-1, self.k, self.k)
        return _from_confusion(metric, self._cm[key], self.positive)


def _draw_weights(n_images: int, n_boot: int, seed: int) -> np.ndarray:
    """Row 0: every image once; rows 1..n_boot: how often each image is drawn."""
    idx = np.random.default_rng(seed).integers(0, n_images, size=(n_boot, n_images))
    flat = (idx + n_images * np.arange(n_boot)[:, None]).ravel()
    counts = np.bincount(flat, minlength=n_boot * n_images).reshape(n_boot, n_images)
    return np.vstack([np.ones(n_images), counts.astype(np.float64)])


def _undefined_reason(
    metric: str, y_true: np.ndarray, positive: int | None, classes: Sequence[str]
) -> str:
    present = set(np.unique(y_true).tolist())
    missing = [c for i, c in enumerate(classes) if i not in present]
    if positive is not None and len(classes) == 2:
        need = classes[1 - positive] if metric == "specificity" else classes[positive]
        missing = [need] if need in missing else missing
    what = ", ".join(missing) if missing else "a class"
    return f"{metric} is undefined on this test set (no {what} images)"


def _bootstrap(
    arm_preds: Mapping[int, _Predictions],
    base_preds: Mapping[int, _Predictions],
    metric: str,
    score: _Scorer,
    test_set: _TestSet,
    settings: BootstrapSettings,
) -> dict[str, Any]:
    confidence, n_boot, y_true = settings.confidence, settings.n_boot, test_set.y_true
    seeds, diffs = [], []
    for s in sorted(set(arm_preds) & set(base_preds)):
        a, b = score(metric, arm_preds[s]), score(metric, base_preds[s])
        if a is not None and b is not None:
            seeds.append(s)
            diffs.append(a - b)
    out: dict[str, Any] = {
        "mean": None,
        "ci_low": None,
        "ci_high": None,
        "confidence": confidence,
        "n_boot": n_boot,
        "n_valid": 0,
        "n_images": len(y_true),
        "n_seeds": len(seeds),
        "seeds": seeds,
        "label": BOOTSTRAP_LABEL,
        "reason": None,
    }
    if not seeds:
        out["reason"] = (
            "roc_auc needs stored positive-class probabilities (binary problems only)"
            if metric == "roc_auc" and set(arm_preds) & set(base_preds)
            else _NO_SEED
        )
        return out
    mean_diff = np.mean(diffs, axis=0)
    if not np.isfinite(mean_diff[0]):
        out["reason"] = _undefined_reason(metric, y_true, test_set.positive, test_set.classes)
        return out
    draws = mean_diff[1:][np.isfinite(mean_diff[1:])]
    out.update(mean=float(mean_diff[0]), n_valid=len(draws))
    if not len(draws):
        out["reason"] = f"{metric} is undefined in every bootstrap draw"
        return out
    tail = 100 * (1 - confidence) / 2
    lo, hi = np.percentile(draws, [tail, 100 - tail])
    out.update(ci_low=float(lo), ci_high=float(hi))
    return out


def mcnemar(
    y_true: Sequence[int] | np.ndarray,
    arm: Sequence[int] | np.ndarray,
    base: Sequence[int] | np.ndarray,
) -> dict[str, Any]:
    """McNemar's exact test of two classifiers on the same images.

    ``b``: images ``base`` gets right and ``arm`` wrong; ``c``: the reverse; ``n = b + c``
    (the discordant images); ``p_value``: two-sided exact binomial test of ``c`` out of
    ``n`` at 1/2 (``scipy.stats.binomtest``), 1.0 when the two never disagree on correctness.
    """
    y = np.asarray(y_true)
    arm_ok, base_ok = np.asarray(arm) == y, np.asarray(base) == y
    b, c = int((base_ok & ~arm_ok).sum()), int((~base_ok & arm_ok).sum())
    p = float(sps.binomtest(c, b + c, 0.5).pvalue) if b + c else 1.0
    return {"b": b, "c": c, "p_value": p, "n": b + c}


def test_set_comparisons(
    runs: Sequence[Mapping[str, Any]],
    metrics: Sequence[str],
    *,
    positive: int | None,
    classes: Sequence[str],
    baseline: str = "baseline",
    bootstrap: BootstrapSettings | None = None,
) -> dict[str, dict[str, Any]]:
    """``{arm: {"bootstrap": {metric: {...}}, "mcnemar": {seed: {...}}}}`` vs ``baseline``.

    ``bootstrap`` sets the draws (default :class:`BootstrapSettings`: 2000 draws, 95%,
    seed 0). Bootstrap entries: ``mean`` (the difference on the full test set, averaged
    over the seeds both arms have predictions for), ``ci_low``/``ci_high`` (percentile
    interval of ``n_boot`` paired draws of the test images), ``confidence``, ``n_boot``, ``n_valid``
    (draws where the metric was defined), ``n_images``, ``n_seeds``, ``seeds``, ``label``
    and ``reason`` (why ``mean`` is ``None``, else ``None``). McNemar entries, per seed
    both arms ran: ``b``, ``c``, ``p_value``, ``n`` (see :func:`mcnemar`), all ``None``
    with a ``reason`` when a run has no stored predictions. ``{}`` without a baseline run.
    """
    bootstrap = BootstrapSettings() if bootstrap is None else bootstrap
    n_boot, confidence = bootstrap.n_boot, bootstrap.confidence
    classes = list(classes)
    k = len(classes)
    if positive is not None and not 0 <= positive < k:
        raise MedaugError(f"positive class index {positive} is out of range for {k} classes")
    if n_boot < 1:
        raise MedaugError(f"n_boot must be at least 1, got {n_boot}")
    if not 0 < confidence < 1:
        raise MedaugError(f"confidence must be between 0 and 1, got {confidence}")
    unknown = [m for m in metrics if m not in TEST_SET_METRICS]
    if unknown:
        raise MedaugError(
            f"unknown test-set metric {unknown[0]!r}; known: {', '.join(TEST_SET_METRICS)}"
        )
    table: dict[str, dict[int, _Predictions | None]] = {}
    for run in runs:
        table.setdefault(str(run["arm"]), {})[int(run["seed"])] = _predictions(run, k)
    if baseline not in table:
        return {}
    stored = [(a, s, p) for a, per in table.items() for s, p in per.items() if p is not None]
    y_true = stored[0][2].y_true if stored else np.zeros(0, dtype=np.int64)
    for arm, s, p in stored:
        if not np.array_equal(p.y_true, y_true):
            raise MedaugError(
                f"run {arm} seed {s} was scored on a different test set than run "
                f"{stored[0][0]} seed {stored[0][1]} (true labels differ)"
            )
    score = _Scorer(
        _draw_weights(len(y_true), n_boot, bootstrap.seed) if stored else np.ones((1, 0)),
        k,
        positive,
    )
    test_set = _TestSet(y_true, classes, positive)
    base = table[baseline]
    out: dict[str, dict[str, Any]] = {}
    for arm, per_seed in table.items():
        if arm == baseline:
            continue
        arm_preds = {s: p for s, p in per_seed.items() if p is not None}
        base_preds = {s: p for s, p in base.items() if p is not None}
        boot = {
            m: _bootstrap(arm_preds, base_preds, m, score, test_set, bootstrap) for m in metrics
        }
        tests: dict[int, dict[str, Any]] = {}
        for s in sorted(set(per_seed) & set(base)):
            a, b = per_seed[s], base[s]
            tests[s] = (
                mcnemar(y_true, a.y_pred, b.y_pred)
                if a is not None and b is not None
                else {"b": None, "c": None, "p_value": None, "n": None, "reason": _NO_RUN}
            )
        out[arm] = {"bootstrap": boot, "mcnemar": tests}
    return out


def format_p_value(value: float | None) -> str:
    """``0.03``, ``0.004``, ``<0.001``, or ``n/a`` for ``None``."""
    if value is None:
        return "n/a"
    if value < 0.001:
        return "<0.001"
    return f"{value:.3f}" if value < 0.01 else f"{value:.2f}"


def test_set_sentence(
    arm: str,
    metric: str,
    boot: Mapping[str, Any],
    mcnemar_tests: Mapping[Any, Mapping[str, Any]] | None = None,
    *,
    baseline: str = "baseline",
) -> str:
    """``"gan vs baseline: +2.1 accuracy points, test-set bootstrap 95% CI +0.4 to +3.9
    (images resampled; 3 seeds averaged); McNemar p per seed: 0.03, 0.20, 0.11"``.

    McNemar p-values are appended when ``mcnemar_tests`` is given (they concern
    accuracy: whether each image is classified correctly).
    """
    if boot.get("mean") is None:
        return f"{arm} vs {baseline}: no test-set bootstrap for {metric} ({boot.get('reason')})"
    scale, unit = (100.0, " points") if metric in RATE_METRICS else (1.0, "")
    n = boot["n_seeds"]
    text = f"{arm} vs {baseline}: {boot['mean'] * scale:+.1f} {metric}{unit}, test-set bootstrap "
    conf = round(100 * float(boot.get("confidence", 0.95)))
    if boot.get("ci_low") is not None:
        text += f"{conf}% CI {boot['ci_low'] * scale:+.1f} to {boot['ci_high'] * scale:+.1f} "
    else:
        text += "interval undefined "
    text += f"(images resampled; {n} seed{'s' if n != 1 else ''} averaged)"
    if mcnemar_tests:
        ordered = sorted(mcnemar_tests.items(), key=lambda kv: int(kv[0]))
        text += "; McNemar p per seed: " + ", ".join(
            format_p_value(t.get("p_value")) for _, t in ordered
        )
    return text


def test_set_sentences(
    test_set: Mapping[str, Mapping[str, Any]],
    metrics: Sequence[str] = ("accuracy", "precision", "recall"),
    *,
    baseline: str = "baseline",
) -> list[str]:
    """One :func:`test_set_sentence` per arm and metric (McNemar on the accuracy line)."""
    return [
        test_set_sentence(
            arm,
            m,
            entry["bootstrap"][m],
            entry.get("mcnemar") if m == "accuracy" else None,
            baseline=baseline,
        )
        for arm, entry in test_set.items()
        for m in metrics
        if m in entry.get("bootstrap", {})
    ]
