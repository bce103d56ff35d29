"""Classifier training and evaluation: data in memory, augmentation, metrics, plots.

The public verbs (:mod:`~medaug.training.workflow`):

- :func:`train` (a :class:`TrainRequest` -> :class:`TrainOutcome`): read a dataset, split
  off validation, fit, write ``model.pt``, ``metrics.json`` and figures;
- :func:`evaluate` (a ``model.pt`` and a dataset, :class:`EvalSettings` -> :class:`EvalOutcome`);
- :func:`fit_and_evaluate` (:mod:`~medaug.training.step`): the one step under both and
  under ``medaug experiment``: make a :class:`Recipe`'s classifier on a :class:`RunData`'s
  train set, select on validation, evaluate on a test set, save (where: a
  :class:`Placement`); returns a :class:`RunRecord` with per-image :class:`Predictions`.

The parts:

- :mod:`~medaug.training.data`: :class:`TensorData`, images in ``[0, 1]`` held in memory;
- :mod:`~medaug.training.augment`: albumentations presets / pipeline files (the one seam);
- :mod:`~medaug.training.trainer`: the loop (class weights, cosine schedule, early stopping,
  best checkpoint, threshold calibration on the validation split);
- :mod:`~medaug.training.metrics`: scikit-learn metrics with an explicit positive class;
- :mod:`~medaug.training.checkpoint`: ``model.pt`` (``torch.load(weights_only=True)``) and
  its :class:`ClassifierInfo`;
- :mod:`~medaug.training.plots`: curves, ROC, confusion matrix;
- :mod:`~medaug.training.config`, :mod:`~medaug.training.spec`,
  :mod:`~medaug.training.request`, :mod:`~medaug.training.record`: the typed settings and
  results (no heavy imports);
- :mod:`~medaug.training.run`: the building blocks :func:`fit_and_evaluate` chains.

The package imports its modules lazily, so ``medaug --help`` does not pay for
scikit-learn and albumentations.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from medaug.lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "Augmenter": "augment",
    "ClassifierInfo": "checkpoint",
    "EvalOutcome": "record",
    "EvalSettings": "request",
    "METRIC_NAMES": "metrics",
    "MONITORS": "config",
    "ModelSpec": "spec",
    "Normalizer": "normalize",
    "PRESETS": "augment",
    "Placement": "parallel",
    "Predictions": "record",
    "Recipe": "spec",
    "RunData": "data",
    "RunRecord": "record",
    "TensorData": "data",
    "TrainConfig": "config",
    "TrainOutcome": "record",
    "TrainRequest": "request",
    "TrainResult": "trainer",
    "align_classes": "data",
    "choose_threshold": "metrics",
    "compute_metrics": "metrics",
    "evaluate": "workflow",
    "evaluate_model": "run",
    "fit": "run",
    "fit_and_evaluate": "step",
    "from_dataset": "data",
    "load_checkpoint": "checkpoint",
    "load_pipeline": "augment",
    "make_predictions": "run",
    "predict_labels": "metrics",
    "predict_proba": "predict",
    "resolve_positive_class": "metrics",
    "save_checkpoint": "checkpoint",
    "save_pipeline": "augment",
    "train": "workflow",
    "train_classifier": "trainer",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_exports(__name__, _EXPORTS, globals(), cache=False)


if TYPE_CHECKING:
    from medaug.training.augment import PRESETS as PRESETS
    from medaug.training.augment import Augmenter as Augmenter
    from medaug.training.augment import load_pipeline as load_pipeline
    from medaug.training.augment import save_pipeline as save_pipeline
    from medaug.training.checkpoint import ClassifierInfo as ClassifierInfo
    from medaug.training.checkpoint import load_checkpoint as load_checkpoint
    from medaug.training.checkpoint import save_checkpoint as save_checkpoint
    from medaug.training.config import MONITORS as MONITORS
    from medaug.training.config import TrainConfig as TrainConfig
    from medaug.training.data import RunData as RunData
    from medaug.training.data import TensorData as TensorData
    from medaug.training.data import align_classes as align_classes
    from medaug.training.data import from_dataset as from_dataset
    from medaug.training.metrics import METRIC_NAMES as METRIC_NAMES
    from medaug.training.metrics import choose_threshold as choose_threshold
    from medaug.training.metrics import compute_metrics as compute_metrics
    from medaug.training.metrics import predict_labels as predict_labels
    from medaug.training.metrics import resolve_positive_class as resolve_positive_class
    from medaug.training.normalize import Normalizer as Normalizer
    from medaug.training.parallel import Placement as Placement
    from medaug.training.predict import predict_proba as predict_proba
    from medaug.training.record import EvalOutcome as EvalOutcome
    from medaug.training.record import Predictions as Predictions
    from medaug.training.record import RunRecord as RunRecord
    from medaug.training.record import TrainOutcome as TrainOutcome
    from medaug.training.request import EvalSettings as EvalSettings
    from medaug.training.request import TrainRequest as TrainRequest
    from medaug.training.run import evaluate_model as evaluate_model
    from medaug.training.run import fit as fit
    from medaug.training.run import make_predictions as make_predictions
    from medaug.training.spec import ModelSpec as ModelSpec
    from medaug.training.spec import Recipe as Recipe
    from medaug.training.step import fit_and_evaluate as fit_and_evaluate
    from medaug.training.trainer import TrainResult as TrainResult
    from medaug.training.trainer import train_classifier as train_classifier
    from medaug.training.workflow import evaluate as evaluate
    from medaug.training.workflow import train as train
