"""``medaug evaluate``: metrics of a trained model on a labelled folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from medaug.cli.commands.train import metrics_table
from medaug.cli.options import dataset_kwargs, dataset_options, device_option, json_option
from medaug.console import console, print_json


@click.command("evaluate")
@click.argument("data", type=click.Path(path_type=Path))
@click.option(
    "--model",
    "model_path",
    type=click.Path(path_type=Path),
    required=True,
    help="A model.pt written by 'medaug train' or 'medaug experiment'.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Output folder [default: next to the model, evaluate-<DATA name>].",
)
@click.option(
    "--threshold",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=None,
    help="Override the decision threshold stored in the model.",
)
@dataset_options
@device_option
@json_option
def command(
    data: Path,
    model_path: Path,
    out: Path | None,
    threshold: float | None,
    device: str,
    as_json: bool,
    **dataset: Any,
) -> None:
    """Evaluate a trained classifier on DATA (one folder per class, or DICOM files
    labelled by --labels CSV or --label-tag).

    Writes metrics.json, roc.png and confusion.png; the stored (validation-calibrated)
    decision threshold is used unless --threshold overrides it.

    \b
    Examples:
      medaug evaluate --model runs/cnn/model.pt data/test
      medaug evaluate --model runs/cnn/model.pt data/test --json
    """
    from medaug.data import load_dataset
    from medaug.data.options import read_settings
    from medaug.runtime import resolve_device
    from medaug.training import (
        Normalizer,
        align_classes,
        check_out_dir,
        evaluate,
        from_dataset,
        load_checkpoint,
    )
    from medaug.training.run import save_evaluation_figures

    dev = resolve_device(device)
    model, meta = load_checkpoint(model_path, device=dev)
    out = check_out_dir(out or model_path.parent / f"evaluate-{data.resolve().name}", [data])
    data_kw = dataset_kwargs(dataset)
    ds = load_dataset(
        data,
        image_size=meta["image_size"],
        channels=meta["channels"],
        progress=not as_json,
        **data_kw,
    )
    classes = list(meta["classes"])
    test = align_classes(from_dataset(ds), classes)
    positive = classes.index(meta["positive_class"]) if meta.get("positive_class") else None
    thr = threshold if threshold is not None else float(meta["threshold"])
    metrics, proba = evaluate(
        model,
        Normalizer.from_dict(meta["normalization"]),
        test,
        threshold=thr,
        positive=positive,
        device=dev,
    )
    figs = save_evaluation_figures(out, metrics, test, proba, positive)
    report = {
        "split": "evaluation",
        "data": str(data),
        "model": str(model_path),
        "data_options": read_settings(data_kw),
        "classifier": meta["classifier"],
        "counts": test.counts(),
        "metrics": metrics,
        "files": {k: str(v) for k, v in figs.items()},
    }
    (out / "metrics.json").write_text(json.dumps(report, indent=2))
    if as_json:
        print_json(report)
        return
    console.print(metrics_table(metrics, f"{meta['classifier']} on {data} ({len(test)} images)"))
    console.print(f"written: {out / 'metrics.json'}")
