"""Classifier training and evaluation: data in memory, augmentation, metrics, plots.

- :mod:`~medaug.training.data`: :class:`TensorData`, images in ``[0, 1]`` held in memory;
- :mod:`~medaug.training.augment`: albumentations presets / pipeline files (the one seam);
- :mod:`~medaug.training.trainer`: the loop (class weights, cosine schedule, early stopping,
  best checkpoint, threshold calibration on the validation split);
- :mod:`~medaug.training.metrics`: scikit-learn metrics with an explicit positive class;
- :mod:`~medaug.training.checkpoint`: ``model.pt`` (``torch.load(weights_only=True)``);
- :mod:`~medaug.training.plots`: curves, ROC, confusion matrix;
- :mod:`~medaug.training.run`: the building blocks the commands share.
"""

from medaug.training.augment import PRESETS, Augmenter, load_pipeline, save_pipeline
from medaug.training.checkpoint import load_checkpoint, save_checkpoint
from medaug.training.data import TensorData, align_classes, from_dataset
from medaug.training.metrics import (
    METRIC_NAMES,
    choose_threshold,
    compute_metrics,
    predict_labels,
    resolve_positive_class,
)
from medaug.training.normalize import Normalizer
from medaug.training.run import ModelSpec, check_out_dir, evaluate, fit
from medaug.training.trainer import TrainConfig, TrainResult, predict_proba, train_classifier

__all__ = [
    "METRIC_NAMES",
    "PRESETS",
    "Augmenter",
    "ModelSpec",
    "Normalizer",
    "TensorData",
    "TrainConfig",
    "TrainResult",
    "align_classes",
    "check_out_dir",
    "choose_threshold",
    "compute_metrics",
    "evaluate",
    "fit",
    "from_dataset",
    "load_checkpoint",
    "load_pipeline",
    "predict_labels",
    "predict_proba",
    "resolve_positive_class",
    "save_checkpoint",
    "save_pipeline",
    "train_classifier",
]
