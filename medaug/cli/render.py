"""Printing helpers shared by commands: rich tables and progress lines (no heavy imports)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.table import Table

#: the headline metrics of :func:`metrics_table`, in display order
METRIC_ROWS: tuple[str, ...] = (
    "accuracy",
    "balanced_accuracy",
    "precision",
    "recall",
    "specificity",
    "f1",
    "roc_auc",
)


def metrics_table(metrics: Mapping[str, Any], title: str) -> Table:
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
