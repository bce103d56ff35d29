"""In-memory training data: float32 image tensors in ``[0, 1]`` plus labels.

Classifier training on CPU holds the (small, e.g. 64 px) images in memory and draws
batches by index permutation. :class:`TensorData` is that form; :func:`from_dataset`
builds it from a :class:`medaug.data.ImageDataset`; :class:`RunData` holds one run's
train, validation and test sets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch


@dataclass
class TensorData:
    """Images ``x`` ``(N, C, H, W)`` float32 in ``[0, 1]``, labels ``y`` ``(N,)`` int64."""

    x: torch.Tensor
    y: torch.Tensor
    classes: list[str]
    #: where each sample came from: "real", "synthetic" or "oversampled"
    origin: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.x.ndim != 4 or self.x.shape[0] != self.y.shape[0]:
            raise ValueError(
                f"x must be (N, C, H, W) matching y; got {self.x.shape}, {self.y.shape}"
            )
        if not self.origin:
            self.origin = ["real"] * len(self)

    def __len__(self) -> int:
        return int(self.y.shape[0])

    @property
    def channels(self) -> int:
        return int(self.x.shape[1])

    @property
    def image_size(self) -> int:
        return int(self.x.shape[-1])

    def counts(self) -> dict[str, int]:
        """Samples per class name (all classes, zeros included)."""
        bins = torch.bincount(self.y, minlength=len(self.classes)).tolist()
        return {c: int(n) for c, n in zip(self.classes, bins, strict=True)}

    def subset(self, indices: Sequence[int] | np.ndarray | torch.Tensor) -> TensorData:
        idx = torch.as_tensor(np.asarray(indices, dtype=np.int64))
        return TensorData(
            self.x[idx], self.y[idx], list(self.classes), [self.origin[int(i)] for i in idx]
        )

    def extend(self, x: torch.Tensor, y: torch.Tensor, origin: str) -> TensorData:
        """A new set with extra samples appended (e.g. synthetic images)."""
        return TensorData(
            torch.cat([self.x, x.to(self.x.dtype)]),
            torch.cat([self.y, y.to(torch.int64)]),
            list(self.classes),
            self.origin + [origin] * int(y.shape[0]),
        )


@dataclass(frozen=True)
class RunData:
    """The labelled data of one classifier run: fit on ``train``, select the epoch (and
    calibrate the threshold) on ``val``, evaluate on ``test`` (``None``: on ``val``).

    ``positive`` is the positive class index of a binary problem (into ``train.classes``;
    ``None`` for a multi-class one).
    """

    train: TensorData
    val: TensorData | None = None
    test: TensorData | None = None
    positive: int | None = None

    @property
    def positive_class(self) -> str | None:
        """The positive class's name (``None`` without one)."""
        return self.train.classes[self.positive] if self.positive is not None else None


def from_dataset(
    ds: Any,
    indices: Sequence[int] | np.ndarray | None = None,
    synthetic: frozenset[Path] = frozenset(),
) -> TensorData:
    """``TensorData`` of a :class:`medaug.data.ImageDataset` (optionally a subset); the
    files in ``synthetic`` (resolved paths) get the origin ``"synthetic"``."""
    idx = None if indices is None else np.asarray(indices, dtype=np.int64)
    x = ds.to_tensor(idx, value_range=(0.0, 1.0)).float()
    targets = np.asarray(ds.targets, dtype=np.int64)
    y = torch.from_numpy(targets if idx is None else targets[idx].copy())
    origin: list[str] = []
    if synthetic:
        picked = range(len(ds.records)) if idx is None else idx.tolist()
        origin = [
            "synthetic" if Path(ds.records[i].path).resolve() in synthetic else "real"
            for i in picked
        ]
    return TensorData(x, y, list(ds.classes), origin)


def align_classes(data: TensorData, classes: Sequence[str]) -> TensorData:
    """Re-index ``data`` labels to ``classes`` (e.g. a test folder against the train classes)."""
    classes = list(classes)
    if data.classes == classes:
        return data
    missing = [c for c in data.classes if c not in classes]
    if missing:
        from medaug.errors import MedaugError

        raise MedaugError(
            f"classes {', '.join(missing)} are not among the training classes "
            f"({', '.join(classes)})"
        )
    mapping = torch.tensor([classes.index(c) for c in data.classes], dtype=torch.int64)
    return TensorData(data.x, mapping[data.y], classes, list(data.origin))
