"""``medaug train``: train a classifier on a class-folder dataset, keep the best epoch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from medaug.cli.options import (
    apply_threads,
    dataset_options,
    device_option,
    json_option,
    model_spec,
    pop_data_options,
    seed_option,
    threads_option,
    train_config,
    training_options,
)


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
@threads_option
@json_option
def command(
    data: Path,
    out: Path,
    val_dir: Path | None,
    device: str,
    threads: int,
    as_json: bool,
    **kw: Any,
) -> None:
    """Train a classifier on DATA and keep the best epoch.

    DATA is a folder of class folders (DATA/<class>/<image>) or of DICOM files labelled
    by --labels CSV or --label-tag; --val DIR is read the same way.

    The best epoch is chosen on a patient-grouped validation split (or --val DIR);
    the decision threshold is calibrated there too. Writes OUT/model.pt,
    metrics.json, history.json, curves.png, val_roc.png, val_confusion.png and
    augment.json (the albumentations pipeline, replayable with --augment).

    Under torchrun every process trains on its share of each epoch (data-parallel,
    effective batch = --batch-size x processes, peak --lr x sqrt(processes)); only
    the first writes files and prints.

    \b
    Examples:
      medaug train data/train --classifier simple-cnn --out runs/cnn
      medaug train data/train --classifier timm:resnet18 --epochs 10 \\
                   --augment strong --val data/val --out runs/r18
      torchrun --nproc_per_node 2 -m medaug train data/train \\
                   --classifier simple-cnn --out runs/ddp
    """
    from medaug.cli.render import metrics_table
    from medaug.console import console, err_console, print_json
    from medaug.training import TrainRequest, train
    from medaug.training.progress import epoch_line

    options = apply_threads(threads, pop_data_options(kw))
    request = TrainRequest(
        data=data,
        out=out,
        model=model_spec(kw),
        config=train_config(**kw),
        val=val_dir,
        val_split=kw["val_split"],
        image_size=kw["image_size"],
        channels=kw["channels"],
        augment=kw["augment"],
        positive_class=kw["positive_class"],
        options=options,
        device=device,
    )
    outcome = train(
        request,
        log=lambda line: err_console.print(line, markup=False),
        on_epoch=lambda row: err_console.print(
            epoch_line(row, request.config.epochs), markup=False
        ),
        progress=not as_json,
    )
    if as_json:
        print_json(outcome.report)
        return
    record = outcome.record
    console.print(
        metrics_table(record.metrics, f"Validation metrics (best epoch {record.best_epoch})")
    )
    console.print(f"model: {outcome.model_path}")
