"""``medaug evaluate``: metrics of a trained model on a labelled folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from medaug.cli.options import dataset_options, device_option, json_option, pop_data_options


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
    from medaug.cli.render import metrics_table
    from medaug.console import console, print_json, warn
    from medaug.training import EvalSettings, evaluate

    outcome = evaluate(
        model_path,
        data,
        out=out,
        options=pop_data_options(dataset),
        settings=EvalSettings(threshold=threshold, device=device, progress=not as_json),
    )
    for name, reason in sorted(outcome.metrics.get("undefined", {}).items()):
        warn(f"{name} is undefined on {data} ({reason}): reported as n/a")
    if as_json:
        print_json(outcome.report)
        return
    n = len(outcome.predictions)
    title = f"{outcome.report['classifier']} on {data} ({n} images)"
    console.print(metrics_table(outcome.metrics, title))
    console.print(f"written: {outcome.out / 'metrics.json'}")
