"""``medaug balance``: add synthetic images to the rare classes of a dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.table import Table

from medaug.balancing.config import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_CHECKPOINT_EVERY,
    DEFAULT_EPOCHS,
    DEFAULT_STEPS,
    DEMO_BATCH_SIZE,
    DEMO_OUT,
    DEMO_STEPS,
    MIN_CLASS_IMAGES,
    RECOMMENDED_CLASS_IMAGES,
)
from medaug.balancing.files import LINK_MODES
from medaug.balancing.summary import BalanceSummary, capped_lines
from medaug.cli.options import (
    apply_threads,
    channels_option,
    curation_options,
    dataset_options,
    device_option,
    image_size_option,
    json_option,
    max_share_option,
    parse_key_values,
    pop_curation,
    pop_data_options,
    seed_option,
    threads_option,
)
from medaug.console import console, err_console, print_json
from medaug.errors import MedaugError
from medaug.limits import MAX_BATCH_SIZE, MAX_IMAGES_PER_CLASS
from medaug.output.strategy import STRATEGY_HELP


@click.command("balance")
@click.argument("data", required=False, type=click.Path(path_type=Path))
@click.option("--generator", "-g", default="dcgan", show_default=True, help="Generator plugin.")
@click.option(
    "--out",
    "-o",
    type=click.Path(path_type=Path),
    help=f"Output folder (required with DATA; ./{DEMO_OUT} for the bundled sample).",
)
@click.option("--strategy", default=None, help=f"Which classes grow and how: {STRATEGY_HELP}.")
@click.option(
    "--count",
    type=click.IntRange(1, MAX_IMAGES_PER_CLASS),
    help="Add exactly N images to each class the strategy selects (the paper: 400).",
)
@max_share_option
@image_size_option("Working size (px).")
@channels_option
@click.option(
    "--epochs",
    type=click.IntRange(min=1),
    help="Training length in epochs per generator, instead of --steps (medaug 0.1.0 "
    f"trained {DEFAULT_EPOCHS} epochs).",
)
@click.option(
    "--steps",
    type=click.IntRange(min=1),
    help="Training length in optimisation steps per generator [default: "
    f"{DEFAULT_STEPS}, 8 per image for a class under 188 images; demo {DEMO_STEPS}].",
)
@click.option(
    "--checkpoint-every",
    type=click.IntRange(min=1),
    help=f"Steps between checkpoints and progress grids [default: "
    f"{DEFAULT_CHECKPOINT_EVERY}]; with --epochs, every epoch.",
)
@click.option(
    "--min-class-images",
    type=click.IntRange(min=1),
    default=MIN_CLASS_IMAGES,
    show_default=True,
    help=f"Refuse to train a generator on a class with fewer images (below "
    f"{RECOMMENDED_CLASS_IMAGES} a warning). Lower it at your own risk.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(1, MAX_BATCH_SIZE),
    help=f"Batch size [default: {DEFAULT_BATCH_SIZE}; demo {DEMO_BATCH_SIZE}].",
)
@seed_option
@device_option
@threads_option
@dataset_options
@click.option(
    "--audit/--no-audit",
    default=True,
    show_default=True,
    help="Audit the synthetic images at the end (realism, diversity, copies of training "
    "images; see 'medaug audit'): figures and verdict in the report and --json.",
)
@click.option(
    "--reject-memorized",
    is_flag=True,
    help="Replace the images the audit flags as near-copies of training images with "
    "fresh samples (deterministic), then audit again; with --filter the copy screen "
    "also rejects candidates.",
)
@curation_options
@click.option(
    "--audit-extractor",
    default="domain",
    show_default=True,
    metavar="NAME",
    help="Feature extractor of the audit (see 'medaug audit --help').",
)
@click.option(
    "--audit-weights",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    default=None,
    help="Local weights file for --audit-extractor (never downloaded).",
)
@click.option(
    "--audit-option",
    "audit_options",
    multiple=True,
    metavar="KEY=VALUE",
    help="Option of the audit's extractor (repeatable), e.g. steps=200.",
)
@click.option("--resume", is_flag=True, help="Continue an interrupted run in OUT.")
@click.option(
    "--link",
    type=click.Choice(LINK_MODES),
    default="hardlink",
    show_default=True,
    help="How real images go into OUT (hardlink falls back to copy).",
)
@click.option(
    "--option",
    "-O",
    "options",
    multiple=True,
    metavar="KEY=VALUE",
    help="Generator plugin option (repeatable), e.g. -O lr=0.0001.",
)
@json_option
def command(
    data: Path | None,
    generator: str,
    out: Path | None,
    strategy: str | None,
    count: int | None,
    max_synthetic_share: float | None,
    image_size: int,
    channels: str,
    epochs: int | None,
    steps: int | None,
    checkpoint_every: int | None,
    min_class_images: int,
    batch_size: int | None,
    seed: int,
    device: str,
    threads: int,
    audit: bool,
    reject_memorized: bool,
    audit_extractor: str,
    audit_weights: Path | None,
    audit_options: tuple[str, ...],
    resume: bool,
    link: str,
    options: tuple[str, ...],
    as_json: bool,
    **dataset: Any,
) -> None:
    """Train a generator on each minority class of DATA and write a balanced copy to OUT.

    OUT/dataset/<class>/ gets the real images (hard links) plus
    synthetic_<seed>_<n>.png (DICOM Secondary Capture for DICOM input); OUT/dataset
    holds only class folders, so ImageFolder-style tools read it as-is. Next to it:
    OUT/manifest.csv, OUT/report/ and OUT/checkpoints/. Without DATA, a small bundled
    ChestXray2017 sample is balanced.

    \b
    Examples:
      medaug balance --generator dcgan
      medaug balance --generator dcgan data/train --out balanced/
      medaug balance -g dcgan data/train --out balanced/ --count 400 --image-size 32
      medaug balance -g dcgan data/train --out balanced/ --steps 3000
      medaug balance -g dcgan data/train --out balanced/ --filter manifold
      medaug balance -g dcgan data/train --out balanced/ --strategy NORMAL=3000,COVID=3000
      medaug balance -g dcgan dicoms/ --labels labels.csv --out balanced/ --resume
    """
    if data is None:
        out = out or DEMO_OUT
        if not as_json:
            err_console.print(
                "No DATA given: balancing the bundled ChestXray2017 sample "
                "(Kermany et al., CC BY 4.0) as a demo, with a short training run; "
                f"output in {out}/"
            )
    elif out is None:
        raise MedaugError("--out is required when DATA is given")
    from medaug.balancing import BalanceConfig, balance

    cfg = BalanceConfig(
        out=out,
        data=data,
        generator=generator,
        strategy=strategy,
        count=count,
        max_synthetic_share=max_synthetic_share,
        image_size=image_size,
        channels=channels,
        epochs=epochs,
        steps=steps,
        checkpoint_every=checkpoint_every,
        min_class_images=min_class_images,
        batch_size=batch_size,
        seed=seed,
        device=device,
        audit=audit,
        reject_memorized=reject_memorized,
        curation=pop_curation(dataset),
        audit_extractor=audit_extractor,
        audit_weights=audit_weights,
        audit_options=parse_key_values(audit_options, "--audit-option"),
        resume=resume,
        link=link,
        generator_options=parse_key_values(options),
        progress=not as_json,
        options=apply_threads(threads, pop_data_options(dataset)),
    )
    reporter: Any = None
    if not as_json:
        from medaug.generation.progress import RichReporter

        reporter = RichReporter()
    try:
        result = balance(cfg, reporter)
    finally:
        if reporter is not None:
            reporter.close()
    if as_json:
        print_json(result.summary.to_dict())
        return
    _print_summary(result.summary)


def _print_summary(summary: BalanceSummary) -> None:
    table = Table(title=f"medaug balance: {summary.out}")
    for col in ("class", "real", "synthetic", "total"):
        table.add_column(col, justify="left" if col == "class" else "right")
    for cls, before in summary.counts_before.items():
        table.add_row(
            cls,
            str(before),
            str(summary.added.get(cls, 0)),
            str(summary.counts_after.get(cls, before)),
        )
    console.print(table)
    for line in capped_lines(summary):
        console.print(line, markup=False, highlight=False)
    if summary.status == "already_complete":
        console.print("This run was already complete; nothing was changed.")
    from medaug.balancing.inputs import skipped_line

    skipped = skipped_line(summary.skipped)
    if skipped:
        console.print(f"Skipped:  {skipped} (see the report)", markup=False, highlight=False)
    console.print(f"Dataset:  {summary.dataset_root}")
    console.print(f"Manifest: {summary.manifest}")
    console.print(f"Report:   {summary.report}")
