"""``medaug generate``: sample images from a trained generator checkpoint."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from medaug.cli.options import device_option, json_option, seed_option
from medaug.console import console, print_json, warn
from medaug.limits import MAX_IMAGES_PER_CLASS


@click.command("generate")
@click.option(
    "--checkpoint",
    "-c",
    required=True,
    type=click.Path(path_type=Path),
    help="A checkpoint from 'medaug balance' (OUT/checkpoints/<class>.pt) or that folder.",
)
@click.option(
    "-n",
    "n",
    required=True,
    type=click.IntRange(1, MAX_IMAGES_PER_CLASS),
    help="Images per class.",
)
@click.option(
    "--out",
    "-o",
    required=True,
    type=click.Path(path_type=Path),
    help="Output folder: new, empty or an earlier generate output, outside the checkpoint's "
    "balance output and its DATA.",
)
@seed_option
@device_option
@json_option
def command(checkpoint: Path, n: int, out: Path, seed: int, device: str, as_json: bool) -> None:
    """Sample N images per class from trained generator checkpoints.

    Files are OUT/<class>/synthetic_<seed>_<n>.png (DICOM Secondary Capture when the
    generator was trained on DICOM), recorded in OUT/manifest.csv; existing files are
    never overwritten, and the same command again finishes an interrupted run. The
    checkpoint and seed of a balance run reproduce its images.

    \b
    Examples:
      medaug generate --checkpoint balanced/checkpoints/NORMAL.pt -n 100 --out more/
      medaug generate --checkpoint balanced/checkpoints -n 50 --out more/ --seed 7
    """
    from medaug.balancing import generate
    from medaug.generation.progress import MessageReporter

    result = generate(checkpoint, n, out, seed=seed, device=device, reporter=MessageReporter(warn))
    if as_json:
        print_json(result.summary)
        return
    table = Table(title=f"medaug generate: {result.out}")
    table.add_column("class")
    table.add_column("written", justify="right")
    for cls, k in result.written.items():
        table.add_row(cls, str(k))
    console.print(table)
    console.print(f"Manifest: {result.manifest}")
