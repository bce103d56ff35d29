"""The one reusable step of every run: fit on train, select on validation, evaluate, save.

:func:`medaug.training.train` calls it once (evaluating on the validation set); the
experiment runner calls it per arm and seed (evaluating on the test set).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import albumentations as A
import torch

from medaug import distributed
from medaug.errors import MedaugError
from medaug.runtime import seed_everything
from medaug.training.config import TrainConfig
from medaug.training.data import TensorData
from medaug.training.record import RunRecord
from medaug.training.run import (
    evaluate_model,
    fit,
    make_predictions,
    save_evaluation_figures,
    save_training,
)
from medaug.training.spec import ModelSpec
from medaug.training.trainer import EpochCallback


def fit_and_evaluate(
    spec: ModelSpec,
    train: TensorData,
    val: TensorData | None,
    config: TrainConfig,
    *,
    device: torch.device,
    pipeline: A.Compose | None,
    positive: int | None,
    run_dir: Path,
    test: TensorData | None = None,
    on_epoch: EpochCallback | None = None,
    extra: dict[str, Any] | None = None,
    data_parallel: bool = False,
) -> RunRecord:
    """Fit ``spec`` on ``train``, keep the best epoch on ``val``, evaluate, save.

    Seeds everything with ``config.seed`` first, so a run does not depend on what ran
    before it in the process. The decision threshold of a binary problem is calibrated on
    ``val`` (or fixed by ``config.threshold``). The model is then evaluated on ``test``
    when given, else on ``val`` (``record.split`` says which); labels of both must use
    ``train.classes``. ``positive`` is the positive class index of a binary problem.

    Writes into ``run_dir``: ``model.pt`` (``extra`` stored in its ``extra`` entry),
    ``history.json``, ``curves.png``, ``augment.json`` (when ``pipeline`` is given) and
    ``test_roc.png``/``test_confusion.png`` (or ``val_...``). ``on_epoch`` receives each
    history row as it is made. Returns the :class:`~medaug.training.RunRecord` (fields
    documented there; per-image predictions in ``record.predictions``).

    ``data_parallel``: every rank of the active process group calls this with the same
    arguments and trains its shard (:func:`~medaug.training.train_classifier`); only
    rank 0 writes into ``run_dir``, and every rank returns the same record.
    """
    target = test if test is not None else val
    if target is None or len(target) == 0:
        raise MedaugError("nothing to evaluate on: the validation and test sets are empty")
    for name, data in (("validation", val), ("test", test)):
        if data is not None and data.classes != train.classes:
            raise MedaugError(
                f"the {name} set's classes ({', '.join(data.classes)}) differ from the "
                f"training classes ({', '.join(train.classes)})"
            )
    split: Literal["test", "validation"] = "test" if test is not None else "validation"
    seed_everything(config.seed)
    result = fit(
        spec,
        train,
        val,
        config,
        device=device,
        pipeline=pipeline,
        positive=positive,
        on_epoch=on_epoch,
        data_parallel=data_parallel,
    )
    metrics, proba = evaluate_model(
        result.model,
        result.normalizer,
        target,
        threshold=result.threshold,
        positive=positive,
        device=device,
        data_parallel=data_parallel,
    )
    files: dict[str, Path] = {}
    if distributed.is_main() or not data_parallel:
        files = save_training(
            run_dir, result, spec, train, pipeline=pipeline, positive=positive, extra=extra
        )
        prefix = "test_" if split == "test" else "val_"
        files.update(
            save_evaluation_figures(run_dir, metrics, target, proba, positive, prefix=prefix)
        )
    if data_parallel:
        files = distributed.broadcast_object(files)
    return RunRecord(
        classes=list(train.classes),
        positive_class=train.classes[positive] if positive is not None else None,
        split=split,
        metrics=metrics,
        predictions=make_predictions(target, proba, positive=positive, threshold=result.threshold),
        val_metrics=result.val_metrics,
        threshold=result.threshold,
        best_epoch=result.best_epoch,
        epochs_run=len(result.history),
        stopped_early=result.stopped_early,
        seconds=result.seconds,
        history=result.history,
        train_counts=train.counts(),
        val_counts=val.counts() if val is not None else {},
        class_weights=list(result.class_weights),
        files=files,
        world_size=result.world_size,
        weights_sha256=result.weights_sha256,
    )
