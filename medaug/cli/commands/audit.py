"""``medaug audit``: are synthetic images realistic, diverse, and not copies of patients?"""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from medaug.cli.options import (
    channels_option,
    dataset_options,
    device_option,
    json_option,
    parse_key_values,
    pop_data_options,
    seed_option,
)
from medaug.console import console, print_json, warn
from medaug.limits import MAX_IMAGE_SIZE

if TYPE_CHECKING:
    from medaug.auditing import AuditReport

FOLDER = click.Path(path_type=Path, file_okay=False)


def _render(report: AuditReport, out: Path | None) -> None:
    from rich.table import Table

    from medaug.auditing.report import FIGURES

    console.print(
        f"extractor: {report.extractor} (sha256 {report.extractor_sha256[:12]}) "
        f"at {report.image_size} px"
    )
    for name, result in report.classes.items():
        table = Table(title=f"{name}: {result.n_synthetic} synthetic vs {result.n_real} real")
        table.add_column("figure")
        table.add_column("synthetic vs real", justify="right")
        table.add_column("real vs real", justify="right")
        for label, attr, digits, _ in FIGURES:
            cells = [
                f"{getattr(m, attr):.{digits}f} ± {getattr(m, attr + '_std'):.{digits}f}"
                for m in (result.metrics, result.baseline)
            ]
            table.add_row(label, *cells)
        console.print(table)
        mem = result.memorization
        console.print(
            f"memorization: {len(mem.flagged)} of {result.n_synthetic} flagged "
            f"(threshold {mem.threshold:.4f})",
            markup=False,
        )
        for match in mem.flagged[:5]:
            console.print(
                f"  {result.synthetic_ids[match.synthetic]} ~ {result.train_ids[match.train]} "
                f"({match.similarity:.4f})",
                markup=False,
            )
        console.print(f"verdict: {result.verdict.summary}", markup=False)
    if out is not None:
        console.print(f"written: {out}", markup=False)


@click.command("audit")
@click.argument("output", required=False, type=FOLDER)
@click.option("--real", type=FOLDER, help="Reference real images of one class (a folder).")
@click.option("--synthetic", type=FOLDER, help="Synthetic images under audit (a folder).")
@click.option(
    "--train",
    type=FOLDER,
    help="The images the generator was trained on, for the copy screen [default: --real].",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="Write audit.json, audit.md, closest-pairs PNGs and the extractor here: a new, "
    "empty or medaug folder outside what the audit reads "
    "[default: OUTPUT/report/audit for a balance output; nothing for folders].",
)
@click.option(
    "--extractor",
    default="domain",
    show_default=True,
    metavar="NAME",
    help="Feature extractor (see 'medaug plugins'): domain, timm:<model>, torchvision:<model>.",
)
@click.option(
    "--weights",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Local weights file of the extractor (its SHA-256 is recorded; never downloaded).",
)
@click.option(
    "--extractor-option",
    "-X",
    "extractor_options",
    multiple=True,
    metavar="KEY=VALUE",
    help="Extractor option (repeatable), e.g. -X steps=600 or -X input_size=224.",
)
@click.option(
    "--image-size",
    type=click.IntRange(16, MAX_IMAGE_SIZE),
    default=None,
    help="Working size (px) [default: 64; a balance output's own].",
)
@channels_option
@click.option(
    "--class",
    "classes",
    multiple=True,
    metavar="NAME",
    help="Audit only this grown class of a balance output (repeatable).",
)
@click.option(
    "--memorization-quantile",
    type=click.FloatRange(0, 1, min_open=True),
    default=0.99,
    show_default=True,
    help="Quantile of the real-to-real nearest-neighbour similarities used as reference.",
)
@click.option(
    "--memorization-margin",
    type=click.FloatRange(0, 1, min_open=True),
    default=0.5,
    show_default=True,
    help="A copy is closer than this fraction of the reference distance.",
)
@click.option(
    "--max-shift",
    type=click.IntRange(min=0),
    default=None,
    help="Largest shift (px) the pixel copy screen tolerates [default: max(2, size/16)].",
)
@seed_option
@device_option
@dataset_options
@json_option
def command(
    output: Path | None,
    real: Path | None,
    synthetic: Path | None,
    train: Path | None,
    out: Path | None,
    extractor: str,
    weights: Path | None,
    extractor_options: tuple[str, ...],
    image_size: int | None,
    channels: str,
    classes: tuple[str, ...],
    memorization_quantile: float,
    memorization_margin: float,
    max_shift: int | None,
    seed: int,
    device: str,
    as_json: bool,
    **dataset: Any,
) -> None:
    """Audit synthetic images: realistic? diverse? copies of training patients?

    Either OUTPUT, a 'medaug balance' output (every class it grew, read through its
    manifest), or --real DIR --synthetic DIR [--train DIR], each DIR one class's images
    (a plain folder of images or DICOM files) read like any dataset.

    Per class, with uncertainties and next to the same figures for real vs real (two
    patient-disjoint halves of the real images): FID, KID, precision, recall, density,
    coverage, the classifier two-sample AUC, and the synthetic images flagged as
    near-copies of training images. docs/audit.md explains how to read them.

    \b
    Examples:
      medaug audit balanced/
      medaug audit --real data/NORMAL --synthetic gen/NORMAL --json
      medaug audit --real test/NORMAL --synthetic gen/NORMAL --train train/NORMAL \\
                   --out audit/ --extractor timm:resnet18 --weights resnet18.pth
    """
    from medaug.auditing import (
        AuditConfig,
        AuditSettings,
        ExtractorSpec,
        MemorizationSettings,
        audit,
        audit_output,
        write_audit,
    )
    from medaug.auditing.report import missing_line
    from medaug.auditing.run import input_paths
    from medaug.auditing.sources import find_output
    from medaug.errors import MedaugError
    from medaug.output import claim_output

    if output is not None and (real or synthetic or train):
        raise click.UsageError("give either OUTPUT or --real/--synthetic, not both")
    if output is None and (real is None or synthetic is None):
        raise click.UsageError("give a balance OUTPUT folder, or both --real and --synthetic")
    if classes and output is None:
        raise click.UsageError("--class applies to a balance OUTPUT only")
    options = pop_data_options(dataset)
    settings = AuditSettings(
        seed=seed,
        memorization=MemorizationSettings(
            quantile=memorization_quantile, margin=memorization_margin, max_shift=max_shift
        ),
    )
    spec = ExtractorSpec(
        name=extractor,
        weights=weights,
        options=parse_key_values(extractor_options, "--extractor-option"),
    )
    config = AuditConfig(
        image_size=image_size,  # None: 64 px for folders, a balance output's own
        channels=None if channels == "auto" else channels,
        options=options,
        extractor=spec,
        settings=settings,
        device=device,
    )
    if output is not None:
        out = out if out is not None else find_output(output).report_dir / "audit"
    inputs = input_paths(balance_output=output, real=real, synthetic=synthetic, train=train)
    inputs += [p for p in (weights, options.labels) if p is not None]
    claim = claim_output(out, command="audit", inputs=inputs) if out is not None else nullcontext()
    with claim:  # refused before the audit runs, not after
        if output is not None:
            report = audit_output(output, config=config, classes=list(classes) or None)
        else:
            assert real is not None and synthetic is not None
            report = audit(real, synthetic, train, config=config)
        if out is not None:
            try:
                write_audit(report, out)
            except OSError as exc:
                raise MedaugError(f"cannot write the audit to {out}: {exc}") from exc
    if report.missing:
        warn(missing_line(report.missing))
    if as_json:
        print_json(report.to_json())
    else:
        _render(report, out)
