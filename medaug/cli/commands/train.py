"""``medaug train``: train a classifier on a class-folder dataset, keep the best epoch."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.table import Table

from medaug.cli.options import (
    channels_option,
    dataset_kwargs,
    dataset_options,
    device_option,
    json_option,
    parse_key_values,
    seed_option,
)
from medaug.console import console, err_console, print_json
from medaug.errors import MedaugError

F = TypeVar("F", bound=Callable[..., Any])

METRIC_ROWS = (
    "accuracy",
    "balanced_accuracy",
    "precision",
    "recall",
    "specificity",
    "f1",
    "roc_auc",
)


def training_options(f: F) -> F:
    """Options shared by ``train`` and ``experiment`` (same names, same defaults)."""
    from medaug.training.config import MONITORS, TrainConfig

    d = TrainConfig()
    opts = [
        click.option(
            "--classifier",
            "classifier",
            required=True,
            metavar="NAME",
            help="Classifier plugin: simple-cnn, timm:resnet18, ... (medaug plugins).",
        ),
        click.option(
            "--image-size",
            type=click.IntRange(min=8),
            default=64,
            show_default=True,
            help="Images are resized to this square size.",
        ),
        channels_option,
        click.option("--epochs", type=click.IntRange(min=1), default=d.epochs, show_default=True),
        click.option(
            "--batch-size", type=click.IntRange(min=2), default=d.batch_size, show_default=True
        ),
        click.option(
            "--lr",
            type=click.FloatRange(min=0, min_open=True),
            default=d.lr,
            show_default=True,
            help="Peak learning rate (AdamW, warm-up + cosine).",
        ),
        click.option(
            "--weight-decay",
            type=click.FloatRange(min=0),
            default=d.weight_decay,
            show_default=True,
        ),
        click.option(
            "--val-split",
            type=click.FloatRange(0, 1, min_open=True, max_open=True),
            default=0.2,
            show_default=True,
            help="Patient-grouped validation fraction of DATA (model selection).",
        ),
        click.option(
            "--augment",
            default="standard",
            show_default=True,
            metavar="PIPELINE",
            help="albumentations pipeline: preset none|light|standard|strong or a "
            "JSON/YAML file (A.save).",
        ),
        click.option(
            "--class-weights",
            default=d.class_weights,
            show_default=True,
            metavar="balanced|none|CLASS=W,...",
            help="Loss weights per class.",
        ),
        click.option(
            "--monitor",
            type=click.Choice(list(MONITORS)),
            default=d.monitor,
            show_default=True,
            help="Validation metric for early stopping / best epoch.",
        ),
        click.option(
            "--patience",
            type=click.IntRange(min=0),
            default=d.patience,
            show_default=True,
            help="Epochs without improvement before stopping (0: off).",
        ),
        click.option(
            "--threshold",
            default=d.threshold,
            show_default=True,
            metavar="calibrate|P",
            help="Binary decision threshold: calibrated on the "
            "validation split (Youden's J) or a fixed probability.",
        ),
        click.option(
            "--positive-class",
            default=None,
            metavar="CLASS",
            help="Positive class of a binary problem (default: the class not named "
            "like normal/healthy, else the second in sorted order).",
        ),
        click.option(
            "--pretrained",
            is_flag=True,
            help="Start from pretrained weights (only if already in the local cache).",
        ),
        click.option(
            "--classifier-option",
            "classifier_options",
            multiple=True,
            metavar="KEY=VALUE",
            help="Option for the classifier plugin (repeatable).",
        ),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def train_config(**kw: Any) -> Any:
    """A :class:`TrainConfig` from the shared options."""
    from medaug.training.config import TrainConfig

    return TrainConfig(
        epochs=kw["epochs"],
        batch_size=kw["batch_size"],
        lr=kw["lr"],
        weight_decay=kw["weight_decay"],
        class_weights=kw["class_weights"],
        monitor=kw["monitor"],
        patience=kw["patience"],
        threshold=kw["threshold"],
        seed=kw.get("seed", 0),
    )


def metrics_table(metrics: dict[str, Any], title: str) -> Table:
    """Headline metrics and confusion matrix of one evaluation."""
    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for m in METRIC_ROWS:
        v = metrics.get(m)
        table.add_row(m, "n/a" if v is None else f"{v:.4f}")
    if metrics.get("threshold") is not None:
        table.add_row("threshold", f"{metrics['threshold']:.4f}")
        table.add_row("positive class", str(metrics["positive_class"]))
    table.add_row("confusion (rows true)", str(metrics["confusion_matrix"]))
    return table


@click.command("train")
@click.argument("data", type=click.Path(path_type=Path))
@training_options
@dataset_options
@click.option(
    "--val",
    "val_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="A separate validation folder instead of --val-split (read like DATA).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    help="Output folder (model.pt, metrics.json, figures).",
)
@seed_option
@device_option
@json_option
def command(
    data: Path, out: Path, val_dir: Path | None, device: str, as_json: bool, **kw: Any
) -> None:
    """Train a classifier on DATA and keep the best epoch.

    DATA is a folder of class folders (DATA/<class>/<image>) or of DICOM files labelled
    by --labels CSV or --label-tag; --val DIR is read the same way.

    The best epoch is chosen on a patient-grouped validation split (or --val DIR);
    the decision threshold is calibrated there too. Writes OUT/model.pt,
    metrics.json, history.json, curves.png, val_roc.png, val_confusion.png and
    augment.json (the albumentations pipeline, replayable with --augment).

    \b
    Examples:
      medaug train data/train --classifier simple-cnn --out runs/cnn
      medaug train data/train --classifier timm:resnet18 --epochs 10 \\
                   --augment strong --val data/val --out runs/r18
    """
    from medaug.data import load_dataset, patient_split
    from medaug.data.options import read_settings
    from medaug.runtime import resolve_device, seed_everything
    from medaug.training import (
        ModelSpec,
        align_classes,
        check_out_dir,
        fit,
        from_dataset,
        load_pipeline,
        resolve_positive_class,
    )
    from medaug.training.run import save_evaluation_figures, save_training

    dev = resolve_device(device)
    roots = [data] + ([val_dir] if val_dir else [])
    out = check_out_dir(out, roots)
    seed_everything(kw["seed"])
    channels: int | str = kw["channels"] if kw["channels"] == "auto" else int(kw["channels"])
    progress = not as_json
    data_kw = dataset_kwargs(kw)
    ds = load_dataset(
        data, image_size=kw["image_size"], channels=channels, progress=progress, **data_kw
    )
    if val_dir is not None:
        train = from_dataset(ds)
        vds = load_dataset(
            val_dir, image_size=kw["image_size"], channels=ds.channels, progress=progress, **data_kw
        )
        val = align_classes(from_dataset(vds), ds.classes)
    else:
        tr_idx, va_idx = patient_split(ds, val_fraction=kw["val_split"], seed=kw["seed"])
        train, val = from_dataset(ds, tr_idx), from_dataset(ds, va_idx)
    if len(val) == 0:
        raise MedaugError("the validation split is empty: use a larger --val-split or --val DIR")
    positive = resolve_positive_class(ds.classes, kw["positive_class"])
    if positive is not None:
        err_console.print(f"positive class: {ds.classes[positive]}")
    pipeline = load_pipeline(kw["augment"])
    spec = ModelSpec(
        kw["classifier"],
        parse_key_values(kw["classifier_options"], "--classifier-option"),
        kw["pretrained"],
    )
    cfg = train_config(**kw)
    err_console.print(
        f"training {spec.classifier} on {len(train)} images {train.counts()}, "
        f"validating on {len(val)} ({dev})"
    )

    def on_epoch(row: dict[str, float]) -> None:
        err_console.print(
            f"epoch {int(row['epoch'])}/{cfg.epochs}: loss {row['train_loss']:.4f} "
            f"acc {row['train_accuracy']:.4f} | val loss {row['val_loss']:.4f} "
            f"acc {row['val_accuracy']:.4f} bal {row['val_balanced_accuracy']:.4f}"
        )

    result = fit(
        spec, train, val, cfg, device=dev, pipeline=pipeline, positive=positive, on_epoch=on_epoch
    )
    paths = save_training(out, result, spec, train, pipeline=pipeline, positive=positive)
    from medaug.training import evaluate

    metrics, proba = evaluate(
        result.model,
        result.normalizer,
        val,
        threshold=result.threshold,
        positive=positive,
        device=dev,
    )
    figs = save_evaluation_figures(out, metrics, val, proba, positive, prefix="val_")
    report = {
        "split": "validation",
        "data": str(data),
        "val": str(val_dir) if val_dir else f"patient split {kw['val_split']}",
        "data_options": read_settings(data_kw),
        "classifier": spec.classifier,
        "classifier_options": spec.options,
        "train_config": cfg.to_dict(),
        "augment": kw["augment"],
        "image_size": kw["image_size"],
        "channels": train.channels,
        "train_counts": train.counts(),
        "val_counts": val.counts(),
        "best_epoch": result.best_epoch,
        "epochs_run": len(result.history),
        "stopped_early": result.stopped_early,
        "threshold": result.threshold,
        "seconds": round(result.seconds, 1),
        "metrics": metrics,
        "files": {k: str(v) for k, v in {**paths, **figs}.items()},
    }
    (out / "metrics.json").write_text(json.dumps(report, indent=2))
    if as_json:
        print_json(report)
        return
    console.print(metrics_table(metrics, f"Validation metrics (best epoch {result.best_epoch})"))
    console.print(f"model: {paths['model']}")
