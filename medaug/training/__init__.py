"""Classifier training and evaluation: data in memory, augmentation, metrics, plots.

- :mod:`~medaug.training.data`: :class:`TensorData`, images in ``[0, 1]`` held in memory;
- :mod:`~medaug.training.augment`: albumentations presets / pipeline files (the one seam);
- :mod:`~medaug.training.trainer`: the loop (class weights, cosine schedule, early stopping,
  best checkpoint, threshold calibration on the validation split);
- :mod:`~medaug.training.metrics`: scikit-learn metrics with an explicit positive class;
- :mod:`~medaug.training.checkpoint`: ``model.pt`` (``torch.load(weights_only=True)``);
- :mod:`~medaug.training.plots`: curves, ROC, confusion matrix;
- :mod:`~medaug.training.run`: the building blocks the commands share.

The package imports its modules lazily, so ``medaug --help`` does not pay for
scikit-learn and albumentations.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS: dict[str, str] = {
    "Augmenter": "augment",
    "METRIC_NAMES": "metrics",
    "MONITORS": "config",
    "ModelSpec": "run",
    "Normalizer": "normalize",
    "PRESETS": "augment",
    "TensorData": "data",
    "TrainConfig": "config",
    "TrainResult": "trainer",
    "align_classes": "data",
    "check_out_dir": "run",
    "choose_threshold": "metrics",
    "compute_metrics": "metrics",
    "evaluate": "run",
    "fit": "run",
    "from_dataset": "data",
    "load_checkpoint": "checkpoint",
    "load_pipeline": "augment",
    "predict_labels": "metrics",
    "predict_proba": "trainer",
    "resolve_positive_class": "metrics",
    "save_checkpoint": "checkpoint",
    "save_pipeline": "augment",
    "train_classifier": "trainer",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"medaug.training.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'medaug.training' has no attribute {name!r}")


if TYPE_CHECKING:
    from medaug.training.augment import PRESETS as PRESETS
    from medaug.training.augment import Augmenter as Augmenter
    from medaug.training.augment import load_pipeline as load_pipeline
    from medaug.training.augment import save_pipeline as save_pipeline
    from medaug.training.checkpoint import load_checkpoint as load_checkpoint
    from medaug.training.checkpoint import save_checkpoint as save_checkpoint
    from medaug.training.config import MONITORS as MONITORS
    from medaug.training.config import TrainConfig as TrainConfig
    from medaug.training.data import TensorData as TensorData
    from medaug.training.data import align_classes as align_classes
    from medaug.training.data import from_dataset as from_dataset
    from medaug.training.metrics import METRIC_NAMES as METRIC_NAMES
    from medaug.training.metrics import choose_threshold as choose_threshold
    from medaug.training.metrics import compute_metrics as compute_metrics
    from medaug.training.metrics import predict_labels as predict_labels
    from medaug.training.metrics import resolve_positive_class as resolve_positive_class
    from medaug.training.normalize import Normalizer as Normalizer
    from medaug.training.run import ModelSpec as ModelSpec
    from medaug.training.run import check_out_dir as check_out_dir
    from medaug.training.run import evaluate as evaluate
    from medaug.training.run import fit as fit
    from medaug.training.trainer import TrainResult as TrainResult
    from medaug.training.trainer import predict_proba as predict_proba
    from medaug.training.trainer import train_classifier as train_classifier
