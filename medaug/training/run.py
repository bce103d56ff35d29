"""Train-then-evaluate building blocks shared by ``train``, ``evaluate`` and ``experiment``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import albumentations as A
import numpy as np
import torch
from torch import nn

from medaug.errors import MedaugError
from medaug.plugins import create_classifier
from medaug.training.augment import Augmenter, save_pipeline
from medaug.training.checkpoint import save_checkpoint
from medaug.training.data import TensorData
from medaug.training.metrics import compute_metrics
from medaug.training.normalize import Normalizer
from medaug.training.plots import plot_confusion, plot_history, plot_roc
from medaug.training.trainer import (
    EpochCallback,
    TrainConfig,
    TrainResult,
    predict_proba,
    train_classifier,
)


@dataclass(frozen=True)
class ModelSpec:
    """Which classifier to build: registry name, plugin options, pretrained flag."""

    classifier: str
    options: dict[str, Any]
    pretrained: bool = False

    def build(self, *, num_classes: int, in_chans: int, image_size: int) -> nn.Module:
        """The network, through :func:`medaug.create_classifier`."""
        options = dict(self.options)
        if self.pretrained:
            options["pretrained"] = True
        return create_classifier(
            self.classifier,
            num_classes=num_classes,
            in_chans=in_chans,
            image_size=image_size,
            **options,
        )

    def checkpoint_options(self) -> dict[str, Any]:
        """Options to rebuild the architecture (never re-requests weights: the checkpoint
        holds them)."""
        return {k: v for k, v in self.options.items() if k not in ("checkpoint", "pretrained")}


def check_out_dir(out: Path, data_roots: Sequence[Path]) -> Path:
    """Create ``out``; refuse when it is inside (or contains) a data folder."""
    out_r = out.expanduser().resolve()
    for root in data_roots:
        root_r = Path(root).expanduser().resolve()
        if out_r == root_r or root_r in out_r.parents or out_r in root_r.parents:
            raise MedaugError(f"--out {out} overlaps the data folder {root}; choose another folder")
    try:
        out_r.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MedaugError(f"cannot create output folder {out}: {exc}") from exc
    return out_r


def fit(
    spec: ModelSpec,
    train: TensorData,
    val: TensorData | None,
    config: TrainConfig,
    *,
    device: torch.device,
    pipeline: A.Compose | None,
    positive: int | None,
    on_epoch: EpochCallback | None = None,
) -> TrainResult:
    """Build the classifier for ``train``'s shape and classes, and train it."""
    torch.manual_seed(config.seed)
    model = spec.build(
        num_classes=len(train.classes), in_chans=train.channels, image_size=train.image_size
    )
    augmenter = Augmenter(pipeline, seed=config.seed) if pipeline is not None else None
    return train_classifier(
        model,
        train,
        val,
        config,
        device=device,
        augmenter=augmenter,
        positive=positive,
        on_epoch=on_epoch,
    )


def evaluate(
    model: nn.Module,
    normalizer: Normalizer,
    data: TensorData,
    *,
    threshold: float,
    positive: int | None,
    device: torch.device,
) -> tuple[dict[str, Any], np.ndarray]:
    """Metrics and probabilities of ``model`` on ``data``."""
    proba = predict_proba(model, data.x, normalizer, device=device)
    metrics = compute_metrics(
        data.y.numpy(), proba, data.classes, positive=positive, threshold=threshold
    )
    return metrics, proba


def save_training(
    out: Path,
    result: TrainResult,
    spec: ModelSpec,
    train: TensorData,
    *,
    pipeline: A.Compose | None,
    positive: int | None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Path]:
    """Write ``model.pt``, ``history.json``, ``curves.png`` and ``augment.json`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "model": save_checkpoint(
            out / "model.pt",
            result.model,
            classifier=spec.classifier,
            options=spec.checkpoint_options(),
            classes=train.classes,
            image_size=train.image_size,
            channels=train.channels,
            normalizer=result.normalizer,
            threshold=result.threshold,
            positive_class=train.classes[positive] if positive is not None else None,
            extra=extra,
        ),
        "history": out / "history.json",
        "curves": plot_history(result.history, out / "curves.png"),
    }
    paths["history"].write_text(json.dumps(result.history, indent=2))
    if pipeline is not None:
        paths["augment"] = save_pipeline(pipeline, out / "augment.json")
    return paths


def save_evaluation_figures(
    out: Path,
    metrics: dict[str, Any],
    data: TensorData,
    proba: np.ndarray,
    positive: int | None,
    *,
    prefix: str = "",
) -> dict[str, Path]:
    """ROC and confusion-matrix PNGs for one evaluation."""
    out.mkdir(parents=True, exist_ok=True)
    return {
        "roc": plot_roc(data.y.numpy(), proba, data.classes, positive, out / f"{prefix}roc.png"),
        "confusion": plot_confusion(
            metrics["confusion_matrix"], data.classes, out / f"{prefix}confusion.png"
        ),
    }
