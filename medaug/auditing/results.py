"""What an audit returns: per class figures, baseline, memorization and a verdict; JSON.

The JSON keys of :meth:`AuditReport.to_json` are stable (issue #8)::

    {"extractor": str,
     "classes": {NAME: {"n_real", "n_synthetic", "fid", "fid_std", "kid", "kid_std",
                        "precision", "recall", "density", "coverage", "c2st_auc",
                        "baseline": {same figures, real vs real},
                        "memorization": {"threshold", "flagged": [{"synthetic", "train",
                                                                   "similarity"}]}}}}

Extra keys (``*_std`` of every figure, ``verdict``, ``extractor_sha256``...) are added
next to them, never instead of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from medaug.auditing.extractors import PreparedExtractor
from medaug.auditing.memorization import MemorizationResult
from medaug.auditing.metrics import MetricSet
from medaug.auditing.settings import AuditSettings

#: C2ST ROC-AUC at or above which the sets are told apart easily / somewhat
C2ST_EASY = 0.9
C2ST_SOME = 0.7
#: precision below this share of the real-vs-real floor: the images are off the manifold
OFF_MANIFOLD = 0.5


@dataclass(frozen=True)
class Verdict:
    """Three plain answers: realistic? diverse? memorized?"""

    realism: str  # "good" | "fair" | "poor"
    diversity: str  # "good" | "fair" | "poor"
    memorized: int
    summary: str

    def to_json(self) -> dict[str, Any]:
        return {
            "realism": self.realism,
            "diversity": self.diversity,
            "memorized": self.memorized,
            "summary": self.summary,
        }


def judge(
    metrics: MetricSet, baseline: MetricSet, memorization: MemorizationResult, n: int
) -> Verdict:
    """The verdict rules (docs/audit.md): realism from the C2ST AUC, diversity from recall
    and coverage relative to the real-vs-real floor, memorization from the flags."""
    auc = metrics.c2st_auc
    floor = max(baseline.c2st_auc, 0.5)
    if auc >= C2ST_EASY:
        realism = "poor"
    elif auc >= max(C2ST_SOME, floor + 0.1):
        realism = "fair"
    else:
        realism = "good"
    ratio = min(
        metrics.recall / max(baseline.recall, 1e-9), metrics.coverage / max(baseline.coverage, 1e-9)
    )
    diversity = "good" if ratio >= 0.8 else "fair" if ratio >= 0.5 else "poor"
    flagged = len(memorization.flagged)
    said_realism = {
        "good": "hard to tell from real",
        "fair": "somewhat distinguishable from real",
        "poor": "easily told from real",
    }[realism]
    summary = (
        f"{said_realism} (C2ST AUC {auc:.2f}, real vs real {baseline.c2st_auc:.2f}); "
        f"diversity {diversity} (recall {metrics.recall:.2f} vs {baseline.recall:.2f}, "
        f"coverage {metrics.coverage:.2f} vs {baseline.coverage:.2f}); "
        f"{flagged} of {n} flagged as near-copies of training images"
    )
    if metrics.precision < OFF_MANIFOLD * baseline.precision:
        summary += (
            f"; most images fall off the real images' manifold (precision "
            f"{metrics.precision:.2f} vs {baseline.precision:.2f}): --filter manifold keeps "
            "only those on it"
        )
    return Verdict(realism, diversity, flagged, summary)


@dataclass(frozen=True)
class ClosestPair:
    """Thumbnails of one of the closest synthetic/training pairs (for the PNG)."""

    synthetic_id: str
    train_id: str
    similarity: float
    flagged: bool
    #: ``(C, H, W)`` uint8 images
    synthetic: np.ndarray
    train: np.ndarray


@dataclass(frozen=True)
class ClassAudit:
    """The audit of one class's synthetic images."""

    name: str
    n_real: int
    n_synthetic: int
    n_train: int
    metrics: MetricSet
    baseline: MetricSet
    memorization: MemorizationResult
    verdict: Verdict
    synthetic_ids: tuple[str, ...]
    train_ids: tuple[str, ...]
    closest_pairs: tuple[ClosestPair, ...] = ()
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def flagged_indices(self) -> list[int]:
        """Indices of the synthetic images flagged as near-copies."""
        return self.memorization.flagged_indices

    def to_json(self) -> dict[str, Any]:
        figures = self.metrics.to_json()
        figures.pop("n_reference")
        figures.pop("n_compared")
        return {
            "n_real": self.n_real,
            "n_synthetic": self.n_synthetic,
            "n_train": self.n_train,
            **figures,
            "baseline": self.baseline.to_json(),
            "memorization": self.memorization.to_json(self.synthetic_ids, self.train_ids),
            "verdict": self.verdict.to_json(),
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
        }


@dataclass(frozen=True)
class AuditReport:
    """Audits of one or more classes, all made with one extractor."""

    extractor: str
    extractor_sha256: str
    extractor_info: dict[str, Any]
    settings: AuditSettings
    classes: dict[str, ClassAudit]
    image_size: int
    channels: int
    source: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    #: the extractor itself (saved next to the audit by ``write_audit``); not in the JSON
    prepared: PreparedExtractor | None = field(default=None, repr=False, compare=False)
    #: files a balance output's manifest lists that are not on disk (not audited)
    missing: tuple[str, ...] = ()

    @property
    def flagged(self) -> dict[str, list[int]]:
        """Per class, the indices of the synthetic images flagged as near-copies."""
        return {name: audit.flagged_indices for name, audit in self.classes.items()}

    def to_json(self) -> dict[str, Any]:
        return {
            "extractor": self.extractor,
            "extractor_sha256": self.extractor_sha256,
            "extractor_info": self.extractor_info,
            "image_size": self.image_size,
            "channels": self.channels,
            "source": self.source,
            "settings": self.settings.to_json(),
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
            "classes": {name: audit.to_json() for name, audit in self.classes.items()},
            "missing": list(self.missing),
        }


__all__ = ["AuditReport", "ClassAudit", "ClosestPair", "Verdict", "judge"]
