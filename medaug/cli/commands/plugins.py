"""``medaug plugins``: what is installed."""

from __future__ import annotations

import click
from rich.markup import escape
from rich.table import Table

from medaug.cli.options import json_option
from medaug.console import console, print_json
from medaug.plugins import KINDS, get_host


def collect() -> list[dict[str, str]]:
    """One row per registered generator, classifier and reader."""
    host = get_host()
    rows: list[dict[str, str]] = []
    for kind in KINDS:
        for entry in host.registry(kind).entries():
            info = host.plugin_info(entry.plugin)
            rows.append(
                {
                    "name": entry.display_name,
                    "kind": kind,
                    "plugin": entry.plugin,
                    "distribution": info.distribution,
                    "version": entry.version,
                    "description": entry.description,
                }
            )
    return rows


@click.command("plugins")
@json_option
def command(as_json: bool) -> None:
    """List every registered generator, classifier and reader.

    \b
    Examples:
      medaug plugins
      medaug plugins --json
    """
    rows = collect()
    if as_json:
        print_json(rows)
        return
    table = Table(title="medaug plugins")
    for col in ("name", "kind", "plugin", "version", "description"):
        table.add_column(col)
    for row in rows:
        cells = (row[k] for k in ("name", "kind", "plugin", "version", "description"))
        table.add_row(*(escape(str(c)) for c in cells))  # plain text: "medaug[diffusion]"
    console.print(table)
    if not rows:
        console.print("No plugins registered.")
