"""Helpers for the balance tests: CLI runner, JSON output, manifest."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from medaug.cli import build_cli

#: tiny training; the audit (slow: it trains an extractor) is tested on its own
TINY = ["--image-size", "16", "--epochs", "1", "--batch-size", "8", "--no-audit"]


def run(args: list[str], *, ok: bool = True) -> Result:
    """Invoke ``medaug ARGS`` in-process."""
    result = CliRunner().invoke(build_cli(), args, catch_exceptions=False)
    if ok:
        assert result.exit_code == 0, result.output
    return result


def run_json(args: list[str]) -> dict[str, Any]:
    """Invoke with ``--json`` and parse stdout."""
    result = run([*args, "--json"])
    return json.loads(result.stdout)


def manifest(out: Path) -> list[dict[str, str]]:
    with open(out / "manifest.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def class_files(out: Path, cls: str) -> list[Path]:
    """Files of class ``cls`` in a balance output (``OUT/dataset/<cls>``) or a generate
    output (``OUT/<cls>``)."""
    folder = out / "dataset" / cls if (out / "dataset").is_dir() else out / cls
    return sorted(p for p in folder.iterdir() if not p.name.startswith("."))
