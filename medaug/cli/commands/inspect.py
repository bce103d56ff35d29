"""``medaug inspect``: what is in a dataset folder, and what ``balance`` would do."""

from __future__ import annotations

from typing import Any

import click
from rich.table import Table

from medaug.cli.options import (
    channels_option,
    dataset_options,
    image_size_option,
    json_option,
    pop_data_options,
)
from medaug.console import console, print_json, warn

MAX_SKIPPED_ROWS = 20
#: files with the same bytes named on stderr (all of them are in --json)
MAX_DUPLICATE_WARNINGS = 10


def warn_duplicates(report: dict[str, Any]) -> None:
    """One warning per group of files with the same bytes (the first few)."""
    from medaug.data.duplicates import describe

    groups = report.get("duplicates", [])
    for group in groups[:MAX_DUPLICATE_WARNINGS]:
        warn(describe(group["classes"], group["files"]))
    if len(groups) > MAX_DUPLICATE_WARNINGS:
        warn(f"... and {len(groups) - MAX_DUPLICATE_WARNINGS} more groups of identical files")


def _render(report: dict[str, Any]) -> None:
    table = Table(title=f"{report['root']}  (reader: {report['reader']})")
    for col, justify in (
        ("class", "left"),
        ("images", "right"),
        ("share", "right"),
        ("patients", "right"),
        ("+ synthetic", "right"),
        ("after", "right"),
    ):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    plan = report["plan"]
    for cls, n in report["classes"].items():
        table.add_row(
            cls,
            str(n),
            f"{report['share'][cls]:.1%}",
            str(report["patients"][cls]),
            str(plan["add"].get(cls, 0)),
            str(plan["after"][cls]),
        )
    console.print(table)
    ratio = report["imbalance_ratio"]
    console.print(
        f"images: {report['total']}   imbalance ratio (majority/minority): "
        f"{ratio:.2f}   plan: {plan['strategy']}"
        if ratio is not None
        else f"images: {report['total']}"
    )
    sizes = ", ".join(f"{k} ({v})" for k, v in list(report["sizes"].items())[:5])
    modes = ", ".join(f"{k} ({v})" for k, v in report["modes"].items())
    console.print(f"sizes: {sizes}\nmodes: {modes}", markup=False)
    if "channels" in report:
        console.print(
            f"decoded: {report['channels']} channel(s), {report['bit_depth']}-bit, "
            f"{report['source_format']}"
        )
    skipped = report["skipped"]
    if skipped:
        st = Table(title=f"skipped: {len(skipped)} file(s)")
        st.add_column("path", overflow="fold")
        st.add_column("reason", overflow="fold")
        for row in skipped[:MAX_SKIPPED_ROWS]:
            st.add_row(row["path"], row["reason"])
        console.print(st)
        if len(skipped) > MAX_SKIPPED_ROWS:
            console.print(f"... and {len(skipped) - MAX_SKIPPED_ROWS} more (use --json for all)")
    else:
        console.print("skipped: none")


@click.command("inspect")
@click.argument("data", type=click.Path(path_type=str))
@dataset_options
@channels_option
@image_size_option("Working size images are decoded (and cached) at.")
@click.option(
    "--quick",
    is_flag=True,
    help="Read headers only: skip decoding (corrupt pixel data not detected).",
)
@json_option
def command(
    data: str,
    channels: str,
    image_size: int,
    quick: bool,
    as_json: bool,
    **dataset: Any,
) -> None:
    """Show classes, counts, imbalance, patients, skipped files and the balance plan.

    DATA is a folder of class folders (DATA/<class>/<image>) or of DICOM files labelled
    by --labels CSV or --label-tag. Images are decoded once into the cache, so later
    commands start fast. Nothing in DATA is ever written.

    \b
    Examples:
      medaug inspect chest_xray/train
      medaug inspect rsna/images --labels rsna/labels.csv --json
      medaug inspect dicoms/ --label-tag StudyDescription
    """
    from medaug.data.summary import inspect_dataset

    report = inspect_dataset(
        data,
        quick=quick,
        image_size=image_size,
        channels=channels,
        options=pop_data_options(dataset),
        progress=not as_json,
    )
    warn_duplicates(report)
    if as_json:
        print_json(report)
    else:
        _render(report)
