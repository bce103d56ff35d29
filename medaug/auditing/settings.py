"""The audit's settings, validated once when built (a bad value fails here, not deep in a run)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from medaug.auditing.extractors import ExtractorSpec
from medaug.data.options import DataOptions
from medaug.errors import MedaugError

if TYPE_CHECKING:
    import torch


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise MedaugError(message)


@dataclass(frozen=True)
class MemorizationSettings:
    """How synthetic images are screened for copies of training images.

    A synthetic image is flagged when it is closer to a training image than
    ``1 - margin * (1 - q)``, where ``q`` is the ``quantile`` of the real-to-real
    nearest-neighbour similarities (each training image against the training images of
    other patients). The defaults flag only what is at least twice as close as the 99th
    percentile of distinct real patients are to each other. The same rule is applied in
    pixel space and in feature space.
    """

    #: which quantile of the real-to-real nearest-neighbour similarities is the reference
    quantile: float = 0.99
    #: fraction of the reference distance (1 - similarity) a copy must be within
    margin: float = 0.5
    #: largest shift (px at the working size) searched; ``None``: max(2, ceil(size / 16))
    max_shift: int | None = None
    #: Gaussian blur (px) before the pixel comparison, so pixel noise does not hide a copy
    blur_sigma: float = 1.0
    #: training images compared exactly per synthetic image (picked at low resolution)
    candidates: int = 8

    def __post_init__(self) -> None:
        _check(
            0.0 < self.quantile <= 1.0,
            f"memorization quantile must be in (0, 1], got {self.quantile}",
        )
        _check(
            0.0 < self.margin <= 1.0, f"memorization margin must be in (0, 1], got {self.margin}"
        )
        _check(
            self.max_shift is None or self.max_shift >= 0,
            f"max shift must be >= 0 px, got {self.max_shift}",
        )
        _check(self.blur_sigma >= 0.0, f"blur sigma must be >= 0, got {self.blur_sigma}")
        _check(self.candidates >= 1, f"candidates must be >= 1, got {self.candidates}")

    def shift_for(self, image_size: int) -> int:
        """The shift searched at ``image_size``, leaving at least a 4x4 overlap."""
        shift = self.max_shift if self.max_shift is not None else max(2, math.ceil(image_size / 16))
        return max(0, min(shift, (image_size - 4) // 2))

    def threshold(self, reference: float) -> float:
        """The similarity above which an image is a copy, from the reference quantile."""
        return 1.0 - self.margin * (1.0 - reference)


@dataclass(frozen=True)
class AuditSettings:
    """Every knob of an audit; the defaults are what ``medaug audit`` uses."""

    #: nearest neighbours for precision/recall and density/coverage (Kynkaanniemi, Naeem)
    k: int = 5
    #: random half-size subsets giving the uncertainty (std) of FID, precision... coverage
    subsets: int = 10
    #: subsets torchmetrics' KID averages over (each half the smaller set, at most 1000)
    kid_subsets: int = 20
    #: cross-validation folds of the classifier two-sample test
    folds: int = 5
    #: seeds the extractor training, the subsets, the folds and the real/real halves
    seed: int = 0
    #: images per forward pass of the extractor
    batch_size: int = 256
    #: closest pairs kept for the PNG
    closest_pairs: int = 8
    memorization: MemorizationSettings = field(default_factory=MemorizationSettings)

    def __post_init__(self) -> None:
        _check(self.k >= 1, f"k must be >= 1, got {self.k}")
        _check(self.subsets >= 2, f"subsets must be >= 2, got {self.subsets}")
        _check(self.kid_subsets >= 2, f"kid subsets must be >= 2, got {self.kid_subsets}")
        _check(self.folds >= 2, f"folds must be >= 2, got {self.folds}")
        _check(self.seed >= 0, f"seed must be >= 0, got {self.seed}")
        _check(self.batch_size >= 1, f"batch size must be >= 1, got {self.batch_size}")
        _check(self.closest_pairs >= 1, f"closest pairs must be >= 1, got {self.closest_pairs}")

    @property
    def min_real(self) -> int:
        """Real images needed: two halves, each split again in half above ``k``."""
        return 4 * (self.k + 1)

    @property
    def min_synthetic(self) -> int:
        """Synthetic images needed: half-size subsets above ``k``."""
        return 2 * (self.k + 1)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class AuditConfig:
    """How an audit of files runs (:func:`~medaug.auditing.audit` on folders,
    :func:`~medaug.auditing.audit_output` on a balance output), apart from what it reads.

    - ``image_size`` and ``channels`` (1, 3 or ``"auto"``): the working size and channels;
      ``None``: 64 px and ``"auto"`` for folders, the run's own for a balance output;
    - ``options``: how the images are read (reader, labels, cache, decode workers);
    - ``extractor``: which feature extractor measures them, on ``device``
      (``auto``, ``cpu``, ``cuda`` or ``cuda:N``);
    - ``settings``: the audit's knobs (:class:`AuditSettings`).
    """

    image_size: int | None = None
    channels: int | str | None = None
    options: DataOptions = field(default_factory=DataOptions)
    extractor: ExtractorSpec = field(default_factory=ExtractorSpec)
    settings: AuditSettings = field(default_factory=AuditSettings)
    device: torch.device | str = "auto"


__all__ = ["AuditConfig", "AuditSettings", "MemorizationSettings"]
