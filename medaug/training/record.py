"""Typed results of training and evaluation runs (plain data, JSON-ready with ``to_dict``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal


@dataclass(frozen=True)
class Predictions:
    """Per-image predictions on one evaluation set, in the set's order.

    - ``y_true``: true class indices (into the run's ``classes``);
    - ``y_pred``: predicted class indices: the positive class when its probability is at
      least the decision threshold (binary problems), else the arg-max class;
    - ``y_score``: probability of the positive class per image (binary problems), else
      ``None``.

    Paired tests (bootstrap, McNemar) over the same test set compare two runs image by
    image with these lists.
    """

    y_true: list[int]
    y_pred: list[int]
    y_score: list[float] | None = None

    def __post_init__(self) -> None:
        if len(self.y_true) != len(self.y_pred) or (
            self.y_score is not None and len(self.y_score) != len(self.y_true)
        ):
            raise ValueError("y_true, y_pred and y_score must have one entry per image")

    def __len__(self) -> int:
        return len(self.y_true)

    @property
    def correct(self) -> list[bool]:
        """Whether each image was classified correctly."""
        return [t == p for t, p in zip(self.y_true, self.y_pred, strict=True)]

    def to_dict(self) -> dict[str, Any]:
        return {"y_true": self.y_true, "y_pred": self.y_pred, "y_score": self.y_score}


@dataclass(frozen=True)
class RunRecord:
    """What :func:`~medaug.training.fit_and_evaluate` returns: one fitted classifier.

    Evaluation set (``split``):

    - ``split``: ``"test"`` when a test set was given, else ``"validation"``;
    - ``metrics``: :func:`~medaug.training.compute_metrics` on that set at ``threshold``
      (accuracy, balanced_accuracy, precision, recall, specificity, f1, roc_auc, n,
      confusion_matrix, per_class, classes, positive_class, threshold);
    - ``predictions``: per-image :class:`Predictions` on that set.

    Training and selection:

    - ``classes``: class names (label order); ``positive_class``: the binary problem's
      positive class, else ``None``;
    - ``train_counts`` / ``val_counts``: images per class in the training and validation
      sets (``val_counts`` empty without validation);
    - ``val_metrics``: metrics on the validation set at ``threshold`` (``None`` without
      one);
    - ``threshold``: decision threshold (calibrated on validation, or the fixed one);
    - ``best_epoch`` (1-based), ``epochs_run``, ``stopped_early``, ``seconds`` (training
      time), ``history`` (one row per epoch: epoch, lr, train_loss, train_accuracy and,
      with validation, val_loss, val_accuracy, val_balanced_accuracy, val_roc_auc),
      ``class_weights`` (loss weight per class, empty when unweighted);
    - ``files``: what was written into the run folder: ``model`` (model.pt),
      ``history`` (history.json), ``curves`` (curves.png), ``augment`` (augment.json,
      when a pipeline was used), ``roc`` and ``confusion`` (``<prefix>roc.png`` and
      ``<prefix>confusion.png``, prefix ``test_`` or ``val_`` after ``split``);
    - ``world_size``: data-parallel ranks that trained the model (1: one process);
      ``weights_sha256``: SHA-256 of the saved weights
      (:func:`~medaug.training.parallel.state_digest`), the same on every rank (checked).
    """

    classes: list[str]
    positive_class: str | None
    split: Literal["test", "validation"]
    metrics: dict[str, Any]
    predictions: Predictions
    val_metrics: dict[str, Any] | None
    threshold: float
    best_epoch: int
    epochs_run: int
    stopped_early: bool
    seconds: float
    history: list[dict[str, float]]
    train_counts: dict[str, int]
    val_counts: dict[str, int]
    class_weights: list[float] = field(default_factory=list)
    files: dict[str, Path] = field(default_factory=dict)
    world_size: int = 1
    weights_sha256: str = ""

    @property
    def n_train(self) -> int:
        return sum(self.train_counts.values())

    @property
    def n_val(self) -> int:
        return sum(self.val_counts.values())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (paths as strings, predictions as lists)."""
        return {
            "classes": self.classes,
            "positive_class": self.positive_class,
            "split": self.split,
            "metrics": self.metrics,
            "predictions": self.predictions.to_dict(),
            "val_metrics": self.val_metrics,
            "threshold": self.threshold,
            "best_epoch": self.best_epoch,
            "epochs_run": self.epochs_run,
            "stopped_early": self.stopped_early,
            "seconds": self.seconds,
            "history": self.history,
            "train_counts": self.train_counts,
            "val_counts": self.val_counts,
            "n_train": self.n_train,
            "n_val": self.n_val,
            "class_weights": self.class_weights,
            "files": {k: str(v) for k, v in self.files.items()},
            "world_size": self.world_size,
            "weights_sha256": self.weights_sha256,
        }


@dataclass(frozen=True)
class TrainOutcome:
    """What :func:`~medaug.training.train` returns.

    ``out`` is the run folder (resolved); ``record`` the :class:`RunRecord` of the fit
    (evaluated on the validation set: ``record.split == "validation"``); ``report`` the
    content of ``out/metrics.json``.
    """

    out: Path
    record: RunRecord
    report: dict[str, Any]

    @property
    def metrics(self) -> dict[str, Any]:
        """Validation metrics at the stored threshold (``report["metrics"]``)."""
        return self.record.metrics

    @property
    def model_path(self) -> Path:
        return self.record.files["model"]


@dataclass(frozen=True)
class EvalOutcome:
    """What :func:`~medaug.training.evaluate` returns.

    ``out`` is the folder written (metrics.json, roc.png, confusion.png); ``metrics``
    and ``predictions`` are on the evaluated images (labels in ``classes``, the model's
    classes); ``counts`` images per class; ``threshold`` the decision threshold used;
    ``files`` the figures; ``report`` the content of ``out/metrics.json``.
    """

    out: Path
    classes: list[str]
    counts: dict[str, int]
    threshold: float
    metrics: dict[str, Any]
    predictions: Predictions
    files: dict[str, Path]
    report: dict[str, Any]
