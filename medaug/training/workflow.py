"""The public verbs: :func:`train` a classifier on a dataset folder, :func:`evaluate` a
trained one on another. Each reads the data, runs, writes ``metrics.json`` and figures,
and returns a typed outcome; the ``medaug train`` and ``medaug evaluate`` commands only
parse options, call one of them and print.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from medaug import distributed
from medaug.atomic import atomic_write_json
from medaug.data import load_dataset, patient_split
from medaug.data.options import DataOptions
from medaug.errors import ConfigError, MedaugError
from medaug.output import claim_output
from medaug.output.manifest import synthetic_files
from medaug.runtime import resolve_device, seed_everything
from medaug.training.augment import load_pipeline
from medaug.training.checkpoint import load_checkpoint
from medaug.training.data import RunData, TensorData, align_classes, from_dataset
from medaug.training.metrics import resolve_positive_class
from medaug.training.normalize import Normalizer
from medaug.training.parallel import Placement, data_digest, scaled_lr
from medaug.training.record import EvalOutcome, RunRecord, TrainOutcome
from medaug.training.request import EvalSettings, TrainRequest
from medaug.training.run import (
    evaluate_model,
    make_predictions,
    save_evaluation_figures,
)
from medaug.training.spec import Recipe
from medaug.training.step import fit_and_evaluate
from medaug.training.trainer import EpochCallback

#: receives one human-readable progress line at a time
Log = Callable[[str], None]


def train(
    request: TrainRequest,
    *,
    log: Log | None = None,
    on_epoch: EpochCallback | None = None,
    progress: bool = False,
) -> TrainOutcome:
    """Train ``request.model`` on ``request.data`` and keep the best epoch.

    Reads the data (``request.options``), holds out a patient-grouped validation
    split (or reads ``request.val``), fits, selects the epoch and calibrates the threshold
    on validation, and writes into ``request.out``: ``model.pt``, ``metrics.json``
    (validation metrics and the run's settings), ``history.json``, ``curves.png``,
    ``val_roc.png``, ``val_confusion.png`` and ``augment.json``.

    ``log`` receives progress lines, ``on_epoch`` each epoch's history row; ``progress``
    shows decode progress bars on stderr. Bad input raises
    :class:`~medaug.errors.MedaugError`.

    Under torchrun (an active :mod:`medaug.distributed` process group of several ranks)
    every rank calls this with the same request and trains data-parallel: the first
    rank of each machine decodes the data into the cache, the others then read it; the
    ranks check that they read the same data; only rank 0 writes files. Every rank
    returns the same outcome (its own timings aside).
    """
    say: Log = log or (lambda _m: None)
    data_parallel = distributed.world_size() > 1
    device = resolve_device(request.device)
    pipeline = load_pipeline(request.augment)
    inputs = [request.data, request.val, request.options.labels]
    with claim_output(request.out, command="train", inputs=[p for p in inputs if p]) as folder:
        out = folder.real
        seed_everything(request.config.seed)
        with distributed.main_first():
            train_set, val_set = _train_and_val(request, progress=progress)
        if data_parallel:
            distributed.check_same_on_all_ranks(
                data_digest(train_set, val_set),
                "the training and validation data",
                hint="every rank must read the same dataset (same files, options and cache)",
            )
        if len(val_set) == 0:
            raise MedaugError(
                "the validation split is empty: use a larger --val-split or --val DIR"
            )
        classes = train_set.classes
        positive = resolve_positive_class(classes, request.positive_class)
        if positive is not None:
            say(f"positive class: {classes[positive]}")
        ranks = f", {distributed.world_size()} ranks" if data_parallel else ""
        say(
            f"training {request.model.classifier} on {len(train_set)} images "
            f"{train_set.counts()}, validating on {len(val_set)} ({device}{ranks})"
        )
        record = fit_and_evaluate(
            Recipe(request.model, request.config, pipeline),
            RunData(train_set, val_set, positive=positive),
            placement=Placement(device, data_parallel=data_parallel),
            run_dir=out,
            on_epoch=on_epoch,
        )
        report = _train_report(request, record, channels=train_set.channels)
        if distributed.is_main():
            atomic_write_json(out / "metrics.json", report)
        distributed.barrier()
        return TrainOutcome(out=out, record=record, report=report)


def evaluate(
    model_path: str | Path,
    data: str | Path,
    *,
    out: str | Path | None = None,
    options: DataOptions | None = None,
    settings: EvalSettings | None = None,
    **deprecated: Any,
) -> EvalOutcome:
    """Metrics of the classifier in ``model_path`` (a ``model.pt``) on the dataset ``data``.

    ``data`` is read like the training data (``options``), at the model's image size and
    channels; its classes must be among the model's. ``settings``
    (:class:`~medaug.training.EvalSettings`) picks the device, progress bars and a
    decision threshold overriding the stored (validation-calibrated) one. Writes
    ``metrics.json``, ``roc.png`` and ``confusion.png`` into ``out`` (default: next to
    the model, ``evaluate-<data folder name>``).

    The keywords ``threshold``, ``device`` and ``progress`` are deprecated: they still
    work (a :class:`DeprecationWarning`) and fill in the matching ``settings`` fields.
    """
    settings = _legacy_settings(settings, deprecated)
    model_path, data = Path(model_path), Path(data)
    options = options if options is not None else DataOptions()
    threshold, device, progress = settings.threshold, settings.device, settings.progress
    dev = resolve_device(device)
    model, meta = load_checkpoint(model_path, device=dev)
    target = Path(out) if out is not None else model_path.parent / f"evaluate-{data.resolve().name}"
    inputs = [data, model_path, *([options.labels] if options.labels else [])]
    with claim_output(target, command="evaluate", inputs=inputs) as folder:
        out_dir = folder.real
        ds = load_dataset(
            data,
            image_size=meta["image_size"],
            channels=meta["channels"],
            progress=progress,
            options=options,
        )
        classes = list(meta["classes"])
        test = align_classes(from_dataset(ds), classes)
        positive = classes.index(meta["positive_class"]) if meta.get("positive_class") else None
        thr = threshold if threshold is not None else float(meta["threshold"])
        metrics, proba = evaluate_model(
            model,
            Normalizer.from_dict(meta["normalization"]),
            test,
            threshold=thr,
            positive=positive,
            placement=Placement(dev),
        )
        figs = save_evaluation_figures(out_dir, metrics, test, proba, positive)
        report = {
            "split": "evaluation",
            "data": str(data),
            "model": str(model_path),
            "data_options": options.read_settings(),
            "classifier": meta["classifier"],
            "counts": test.counts(),
            "metrics": metrics,
            "files": {k: str(v) for k, v in figs.items()},
        }
        atomic_write_json(out_dir / "metrics.json", report)
        return EvalOutcome(
            out=out_dir,
            classes=classes,
            counts=test.counts(),
            threshold=thr,
            metrics=metrics,
            predictions=make_predictions(test, proba, positive=positive, threshold=thr),
            files=figs,
            report=report,
        )


#: the keywords :func:`evaluate` took before :class:`EvalSettings` (all its fields)
_EVAL_KEYWORDS = tuple(f.name for f in fields(EvalSettings))


def _legacy_settings(settings: EvalSettings | None, deprecated: dict[str, Any]) -> EvalSettings:
    """``settings`` with the deprecated keywords of :func:`evaluate` mapped onto it (each
    with a :class:`DeprecationWarning`); other unknown keywords raise :class:`TypeError`."""
    unknown = [k for k in deprecated if k not in _EVAL_KEYWORDS]
    if unknown:
        raise TypeError(f"evaluate() got an unexpected keyword argument {unknown[0]!r}")
    settings = settings if settings is not None else EvalSettings()
    if not deprecated:
        return settings
    given = [k for k in _EVAL_KEYWORDS if k in deprecated]
    warnings.warn(
        f"evaluate(): the keyword(s) {', '.join(given)} are deprecated; pass "
        f"settings=medaug.training.EvalSettings({', '.join(k + '=...' for k in given)}) "
        "instead",
        DeprecationWarning,
        stacklevel=3,
    )
    return replace(settings, **deprecated)


def _train_and_val(request: TrainRequest, *, progress: bool) -> tuple[TensorData, TensorData]:
    """The training set and its validation set (``request.val``, or a patient split)."""
    ds = load_dataset(
        request.data,
        image_size=request.image_size,
        channels=request.channels,
        progress=progress,
        options=request.options,
    )
    synthetic = _synthetic_files(request)
    if request.val is None:
        tr_idx, va_idx = patient_split(ds, val_fraction=request.val_split, seed=request.config.seed)
        return from_dataset(ds, tr_idx, synthetic), from_dataset(ds, va_idx)
    vds = load_dataset(
        request.val,
        image_size=request.image_size,
        channels=ds.channels,
        progress=progress,
        options=request.options,
    )
    return from_dataset(ds, None, synthetic), align_classes(from_dataset(vds), ds.classes)


def _synthetic_files(request: TrainRequest) -> frozenset[Path]:
    """The synthetic images of ``request.data`` (a balance output) when
    ``synthetic_weight`` gives them another weight; one error when there are none."""
    if request.config.synthetic_weight == 1.0:
        return frozenset()
    found = synthetic_files(Path(request.data).resolve())
    if not found:
        raise ConfigError(
            "{synthetic_weight} needs a balance output as DATA (OUT/dataset, with "
            "OUT/manifest.csv naming its synthetic images); none found",
            "synthetic_weight",
        )
    return found


def _train_report(request: TrainRequest, record: RunRecord, *, channels: int) -> dict[str, Any]:
    """The content of a training run's ``metrics.json``."""
    return {
        "split": "validation",
        "data": str(request.data),
        "val": request.validation,
        "data_options": request.options.read_settings(),
        "classifier": request.model.classifier,
        "classifier_options": request.model.options,
        "train_config": request.config.to_dict(),
        "parallel": {
            "world_size": record.world_size,
            "effective_batch_size": request.config.batch_size * record.world_size,
            "peak_lr": scaled_lr(request.config.lr, record.world_size),
            "weights_sha256": record.weights_sha256,
        },
        "augment": request.augment,
        "image_size": request.image_size,
        "channels": channels,
        "train_counts": record.train_counts,
        "val_counts": record.val_counts,
        "best_epoch": record.best_epoch,
        "epochs_run": record.epochs_run,
        "stopped_early": record.stopped_early,
        "threshold": record.threshold,
        "seconds": round(record.seconds, 1),
        "metrics": record.metrics,
        "files": {k: str(v) for k, v in record.files.items()},
    }
