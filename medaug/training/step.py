"""The one reusable step of every run: fit on train, select on validation, evaluate, save.

:func:`medaug.training.train` calls it once (evaluating on the validation set); the
experiment runner calls it per arm and seed (evaluating on the test set).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from medaug import distributed
from medaug.errors import MedaugError
from medaug.runtime import seed_everything
from medaug.training.data import RunData
from medaug.training.parallel import Placement
from medaug.training.record import RunRecord
from medaug.training.run import (
    evaluate_model,
    fit,
    make_predictions,
    save_evaluation_figures,
    save_training,
)
from medaug.training.spec import Recipe
from medaug.training.trainer import EpochCallback


def fit_and_evaluate(
    recipe: Recipe,
    data: RunData,
    *,
    placement: Placement,
    run_dir: Path,
    on_epoch: EpochCallback | None = None,
    extra: dict[str, Any] | None = None,
) -> RunRecord:
    """Make ``recipe``'s classifier on ``data.train``, keep the best epoch on ``data.val``,
    evaluate, save.

    Seeds everything with ``recipe.config.seed`` first, so a run does not depend on what
    ran before it in the process. The decision threshold of a binary problem
    (``data.positive``) is calibrated on ``data.val`` (or fixed by
    ``recipe.config.threshold``). The model is then evaluated on ``data.test`` when given,
    else on ``data.val`` (``record.split`` says which); labels of both must use
    ``data.train.classes``.

    Writes into ``run_dir``: ``model.pt`` (``extra`` stored in its ``extra`` entry),
    ``history.json``, ``curves.png``, ``augment.json`` (when ``recipe.pipeline`` is given)
    and ``test_roc.png``/``test_confusion.png`` (or ``val_...``). ``on_epoch`` receives
    each history row as it is made. Returns the :class:`~medaug.training.RunRecord`
    (fields documented there; per-image predictions in ``record.predictions``).

    ``placement.data_parallel``: every rank of the active process group calls this with
    the same arguments and trains its shard (:func:`~medaug.training.train_classifier`);
    only rank 0 writes into ``run_dir``, and every rank returns the same record.
    """
    train, val, test, positive = data.train, data.val, data.test, data.positive
    target = test if test is not None else val
    if target is None or len(target) == 0:
        raise MedaugError("nothing to evaluate on: the validation and test sets are empty")
    for name, part in (("validation", val), ("test", test)):
        if part is not None and part.classes != train.classes:
            raise MedaugError(
                f"the {name} set's classes ({', '.join(part.classes)}) differ from the "
                f"training classes ({', '.join(train.classes)})"
            )
    split: Literal["test", "validation"] = "test" if test is not None else "validation"
    seed_everything(recipe.config.seed)
    result = fit(recipe, data, placement=placement, on_epoch=on_epoch)
    metrics, proba = evaluate_model(
        result.model,
        result.normalizer,
        target,
        threshold=result.threshold,
        positive=positive,
        placement=placement,
    )
    files: dict[str, Path] = {}
    if distributed.is_main() or not placement.data_parallel:
        files = save_training(run_dir, result, recipe, data, extra=extra)
        prefix = "test_" if split == "test" else "val_"
        files.update(
            save_evaluation_figures(run_dir, metrics, target, proba, positive, prefix=prefix)
        )
    if placement.data_parallel:
        files = distributed.broadcast_object(files)
    return RunRecord(
        classes=list(train.classes),
        positive_class=data.positive_class,
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
