"""Run the experiment: every arm x seed, resumable, then aggregate and report.

Layout of ``OUT``::

    experiment.json              settings + fingerprint (guards resumption)
    generators/seed<S>/<CLASS>.pt  synthetic images of seed S (+ generator state, grid)
    runs/seed<S>/<ARM>/          model.pt, result.json, history.json, curves.png,
                                 test_roc.png, test_confusion.png, augment.json
    results.json  report.md  metrics_by_arm.png

A run whose ``result.json`` exists is never recomputed.
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch

from medaug import __version__
from medaug.errors import MedaugError
from medaug.experiments.arms import classic_images, extra_counts, gan_images, with_extras
from medaug.experiments.config import ExperimentConfig
from medaug.experiments.report import write_report
from medaug.experiments.stats import compare, sentence, summarize
from medaug.plugins import registry
from medaug.runtime import resolve_device, seed_everything
from medaug.training.augment import load_pipeline
from medaug.training.data import TensorData, align_classes, from_dataset
from medaug.training.metrics import METRIC_NAMES, resolve_positive_class
from medaug.training.plots import plot_arms
from medaug.training.run import (
    ModelSpec,
    check_out_dir,
    evaluate,
    fit,
    save_evaluation_figures,
    save_training,
)

Log = Callable[[str], None]
RESULTS_FORMAT = "medaug-experiment/1"


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str))
    os.replace(tmp, path)


def _guard(out: Path, cfg: ExperimentConfig) -> None:
    """Refuse to mix runs of different settings in one folder."""
    manifest = out / "experiment.json"
    fp = cfg.fingerprint()
    if manifest.is_file():
        old = json.loads(manifest.read_text())
        if old.get("fingerprint") != fp:
            raise MedaugError(
                f"{out} holds an experiment with other settings (fingerprint "
                f"{old.get('fingerprint')} != {fp}); use a new --out folder"
            )
    _write_json(manifest, {"fingerprint": fp, "settings": cfg.to_dict()})


def versions(cfg: ExperimentConfig) -> dict[str, Any]:
    """Library and plugin versions recorded with the results."""
    import albumentations
    import numpy
    import sklearn
    import torchvision

    out: dict[str, Any] = {
        "medaug": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "albumentations": albumentations.__version__,
        "scikit-learn": sklearn.__version__,
        "numpy": numpy.__version__,
        "platform": platform.platform(),
    }
    try:
        import timm

        out["timm"] = timm.__version__
    except ImportError:  # pragma: no cover
        pass
    for kind, name in (("classifier", cfg.classifier), ("generator", cfg.generator)):
        if name and (kind != "generator" or "gan" in cfg.arms):
            entry = registry(kind).get(name)
            out[f"{kind}_plugin"] = {"name": name, "plugin": entry.plugin, "version": entry.version}
    return out


def _load(cfg: ExperimentConfig, progress: bool) -> tuple[Any, TensorData]:
    from medaug.data import load_dataset

    opts = dict(cfg.data_options)
    ds = load_dataset(
        cfg.train, image_size=cfg.image_size, channels=cfg.channels, progress=progress, **opts
    )
    test_ds = load_dataset(
        cfg.test, image_size=cfg.image_size, channels=ds.channels, progress=progress, **opts
    )
    test = align_classes(from_dataset(test_ds), ds.classes)
    return ds, test


def run_experiment(
    cfg: ExperimentConfig, *, log: Log = lambda _m: None, progress: bool = False
) -> dict[str, Any]:
    """Train every arm for every seed (skipping finished runs); return ``results.json`` data."""
    from medaug.data import patient_split

    started = time.perf_counter()
    device = resolve_device(cfg.device)
    out = check_out_dir(cfg.out, [cfg.train, cfg.test])
    if Path(cfg.train).resolve() == Path(cfg.test).resolve():
        raise MedaugError("--train and --test are the same folder; the test set must be separate")
    _guard(out, cfg)
    ds, test = _load(cfg, progress)
    classes = list(ds.classes)
    positive = resolve_positive_class(classes, cfg.positive_class)
    if positive is not None:
        log(f"positive class: {classes[positive]} (precision/recall refer to it)")
    pipeline = load_pipeline(cfg.augment)
    classic_pipeline = load_pipeline(cfg.classic_augment)
    spec = ModelSpec(cfg.classifier, dict(cfg.classifier_options), cfg.pretrained)
    runs: list[dict[str, Any]] = []
    for seed in cfg.seed_list:
        seed_dir = out / "runs" / f"seed{seed}"
        pending = [a for a in cfg.arms if not (seed_dir / a / "result.json").is_file()]
        for arm in cfg.arms:
            if arm not in pending:
                log(f"seed {seed} {arm}: already done, reusing {seed_dir / arm / 'result.json'}")
        if not pending:
            runs.extend(json.loads((seed_dir / a / "result.json").read_text()) for a in cfg.arms)
            continue
        train_idx, val_idx = patient_split(ds, val_fraction=cfg.val_fraction, seed=seed)
        train, val = from_dataset(ds, train_idx), from_dataset(ds, val_idx)
        counts = (
            extra_counts(train, cfg.synthetic, cfg.strategy)
            if {"gan", "classic"} & set(pending)
            else {}
        )
        for arm in cfg.arms:
            path = seed_dir / arm / "result.json"
            if arm not in pending:
                runs.append(json.loads(path.read_text()))
                continue
            data = _arm_data(arm, cfg, train, counts, seed, device, out, classic_pipeline, log)
            runs.append(
                _run_one(
                    arm,
                    seed,
                    cfg,
                    spec,
                    data,
                    val,
                    test,
                    counts,
                    positive,
                    pipeline,
                    device,
                    seed_dir / arm,
                    log,
                )
            )
    return _finish(cfg, out, runs, classes, positive, ds, test, device, started)


def _arm_data(
    arm: str,
    cfg: ExperimentConfig,
    train: TensorData,
    counts: dict[str, int],
    seed: int,
    device: torch.device,
    out: Path,
    classic_pipeline: Any,
    log: Log,
) -> TensorData:
    if arm == "baseline":
        return train
    if arm == "gan":
        assert cfg.generator is not None
        extras = gan_images(
            train,
            counts,
            generator=cfg.generator,
            options=cfg.generator_options,
            epochs=cfg.gen_epochs,
            batch_size=cfg.gen_batch_size,
            seed=seed,
            device=device,
            cache_dir=out / "generators" / f"seed{seed}",
            log=log,
        )
        return with_extras(train, extras, "synthetic")
    extras = classic_images(train, counts, classic_pipeline, seed=seed)
    return with_extras(train, extras, "oversampled")


def _run_one(
    arm: str,
    seed: int,
    cfg: ExperimentConfig,
    spec: ModelSpec,
    train: TensorData,
    val: TensorData,
    test: TensorData,
    counts: dict[str, int],
    positive: int | None,
    pipeline: Any,
    device: torch.device,
    run_dir: Path,
    log: Log,
) -> dict[str, Any]:
    log(f"seed {seed} {arm}: training on {len(train)} images {train.counts()}")
    seed_everything(seed)
    tcfg = replace(cfg.train_config, seed=seed)

    def on_epoch(row: dict[str, float]) -> None:
        log(
            f"  seed {seed} {arm} epoch {int(row['epoch'])}/{tcfg.epochs}: "
            f"loss {row['train_loss']:.3f} acc {row['train_accuracy']:.3f}"
            + (
                f" | val loss {row['val_loss']:.3f} acc {row['val_accuracy']:.3f} "
                f"bal {row['val_balanced_accuracy']:.3f}"
                if "val_loss" in row
                else ""
            )
        )

    result = fit(
        spec,
        train,
        val,
        tcfg,
        device=device,
        pipeline=pipeline,
        positive=positive,
        on_epoch=on_epoch,
    )
    test_metrics, proba = evaluate(
        result.model,
        result.normalizer,
        test,
        threshold=result.threshold,
        positive=positive,
        device=device,
    )
    save_training(
        run_dir,
        result,
        spec,
        train,
        pipeline=pipeline,
        positive=positive,
        extra={"arm": arm, "seed": seed},
    )
    save_evaluation_figures(run_dir, test_metrics, test, proba, positive, prefix="test_")
    record = {
        "arm": arm,
        "seed": seed,
        "train_counts": train.counts(),
        "added": {c: n for c, n in counts.items() if n} if arm != "baseline" else {},
        "n_train": len(train),
        "n_val": len(val),
        "best_epoch": result.best_epoch,
        "epochs_run": len(result.history),
        "stopped_early": result.stopped_early,
        "threshold": result.threshold,
        "seconds": round(result.seconds, 1),
        "val": result.val_metrics,
        "test": test_metrics,
        "history": result.history,
    }
    _write_json(run_dir / "result.json", record)
    log(
        f"seed {seed} {arm}: test accuracy {test_metrics['accuracy']:.4f} precision "
        f"{test_metrics['precision']:.4f} recall {test_metrics['recall']:.4f} "
        f"({result.seconds:.0f}s, best epoch {result.best_epoch})"
    )
    return record


def _finish(
    cfg: ExperimentConfig,
    out: Path,
    runs: list[dict[str, Any]],
    classes: list[str],
    positive: int | None,
    ds: Any,
    test: TensorData,
    device: torch.device,
    started: float,
) -> dict[str, Any]:
    metrics = list(METRIC_NAMES)
    summary = summarize(runs, metrics)
    summary = {a: summary[a] for a in cfg.arms if a in summary}
    comparisons = compare(runs, metrics)
    sentences = [
        sentence(arm, m, comparisons[arm][m])
        for arm in cfg.arms
        if arm in comparisons
        for m in ("accuracy", "precision", "recall")
    ]
    figures = {"metrics_by_arm": str(plot_arms(summary, metrics, out / "metrics_by_arm.png"))}
    results: dict[str, Any] = {
        "format": RESULTS_FORMAT,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "fingerprint": cfg.fingerprint(),
        "settings": cfg.to_dict(),
        "versions": versions(cfg),
        "device": str(device),
        "classes": classes,
        "positive_class": classes[positive] if positive is not None else None,
        "data": {
            "train": ds.counts(),
            "test": test.counts(),
            "image_size": cfg.image_size,
            "channels": int(ds.channels),
        },
        "summary": summary,
        "comparisons": comparisons,
        "sentences": sentences,
        "runs": [{k: v for k, v in r.items() if k != "history"} for r in runs],
        "figures": figures,
        "seconds": round(time.perf_counter() - started, 1),
    }
    _write_json(out / "results.json", results)
    write_report(results, out / "report.md")
    return results
