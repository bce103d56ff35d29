"""Building blocks of a run: fit, metrics, files (output folders:
:func:`medaug.output.claim_output`).

:func:`medaug.training.fit_and_evaluate` chains them; :func:`medaug.training.train` and
:func:`medaug.training.evaluate` add data loading and ``metrics.json``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from medaug import distributed
from medaug.atomic import atomic_write_json
from medaug.training.augment import Augmenter, save_pipeline
from medaug.training.checkpoint import ClassifierInfo, save_checkpoint
from medaug.training.data import RunData, TensorData
from medaug.training.metrics import compute_metrics, predict_labels
from medaug.training.normalize import Normalizer
from medaug.training.parallel import Placement, predict_proba_everywhere
from medaug.training.plots import plot_confusion, plot_history, plot_roc
from medaug.training.predict import predict_proba
from medaug.training.record import Predictions
from medaug.training.spec import Recipe
from medaug.training.trainer import (
    EpochCallback,
    TrainResult,
    train_classifier,
)


def fit(
    recipe: Recipe,
    data: RunData,
    *,
    placement: Placement,
    on_epoch: EpochCallback | None = None,
) -> TrainResult:
    """Build ``recipe.spec``'s classifier for ``data.train``'s shape and classes, and
    train it (:func:`~medaug.training.train_classifier`; ``placement.data_parallel``: with
    the other ranks, each augmenting with its own seed)."""
    config, pipeline, train = recipe.config, recipe.pipeline, data.train
    torch.manual_seed(config.seed)
    model = recipe.spec.build(
        num_classes=len(train.classes), in_chans=train.channels, image_size=train.image_size
    )
    aug_seed = distributed.rank_seed(config.seed) if placement.data_parallel else config.seed
    augmenter = Augmenter(pipeline, seed=aug_seed) if pipeline is not None else None
    return train_classifier(
        model, data, config, placement=placement, augmenter=augmenter, on_epoch=on_epoch
    )


def evaluate_model(
    model: nn.Module,
    normalizer: Normalizer,
    data: TensorData,
    *,
    threshold: float,
    positive: int | None,
    placement: Placement,
) -> tuple[dict[str, Any], np.ndarray]:
    """Metrics and probabilities ``(N, K)`` of ``model`` on ``data`` (``data_parallel``
    placement: predicted by all ranks together, the same numbers on each)."""
    device = placement.device
    if placement.world_size > 1:
        proba = predict_proba_everywhere(model, data.x, normalizer, device=device)
    else:
        proba = predict_proba(model, data.x, normalizer, device=device)
    metrics = compute_metrics(
        data.y.numpy(), proba, data.classes, positive=positive, threshold=threshold
    )
    return metrics, proba


def save_training(
    out: Path,
    result: TrainResult,
    recipe: Recipe,
    data: RunData,
    *,
    extra: dict[str, Any] | None = None,
) -> dict[str, Path]:
    """Write ``model.pt`` (``extra`` in its ``extra`` entry), ``history.json``,
    ``curves.png`` and ``augment.json`` (with ``recipe.pipeline``) into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    train = data.train
    info = ClassifierInfo(
        classifier=recipe.spec.classifier,
        options=recipe.spec.checkpoint_options(),
        classes=train.classes,
        image_size=train.image_size,
        channels=train.channels,
        normalizer=result.normalizer,
        threshold=result.threshold,
        positive_class=data.positive_class,
        extra=extra,
    )
    paths = {
        "model": save_checkpoint(out / "model.pt", result.model, info),
        "history": out / "history.json",
        "curves": plot_history(result.history, out / "curves.png"),
    }
    atomic_write_json(paths["history"], result.history)
    if recipe.pipeline is not None:
        paths["augment"] = save_pipeline(recipe.pipeline, out / "augment.json")
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


def make_predictions(
    data: TensorData, proba: np.ndarray, *, positive: int | None, threshold: float
) -> Predictions:
    """Per-image :class:`Predictions` of ``proba`` on ``data`` (as the metrics count them)."""
    pred = predict_labels(proba, positive=positive, threshold=threshold)
    score = None
    if positive is not None and proba.shape[1] == 2:
        score = [float(p) for p in proba[:, positive]]
    return Predictions(
        y_true=[int(v) for v in data.y.tolist()], y_pred=[int(v) for v in pred], y_score=score
    )
