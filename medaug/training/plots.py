"""Figures: training curves (paper Figs. 7-8), ROC curve, confusion matrix, arm comparison."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator
from sklearn.metrics import ConfusionMatrixDisplay, RocCurveDisplay

from medaug.atomic import atomic_path


def _save(fig: Any, path: Path) -> Path:
    """Write ``fig`` as a PNG atomically (recorded in the output folder's marker)."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
    return path


def plot_history(history: Sequence[dict[str, float]], path: Path, *, title: str = "") -> Path:
    """Accuracy and loss per epoch, training vs validation (two panels)."""
    epochs = [h["epoch"] for h in history]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key, label in ((axes[0], "accuracy", "Accuracy"), (axes[1], "loss", "Loss")):
        ax.plot(epochs, [h.get(f"train_{key}", np.nan) for h in history], "o-", label="train")
        if any(f"val_{key}" in h for h in history):
            ax.plot(
                epochs, [h.get(f"val_{key}", np.nan) for h in history], "s-", label="validation"
            )
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(label)
        ax.set_title(f"{label} per epoch")
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, path)


def plot_roc(
    y_true: np.ndarray, proba: np.ndarray, classes: Sequence[str], positive: int | None, path: Path
) -> Path:
    """ROC curve of the positive class (binary) or one curve per class (one-vs-rest)."""
    fig, ax = plt.subplots(figsize=(5, 5))
    targets = [positive] if positive is not None else list(range(len(classes)))
    for c in targets:
        y = np.asarray(y_true) == c
        if y.all() or not y.any():
            continue
        RocCurveDisplay.from_predictions(y, proba[:, c], name=str(classes[c]), ax=ax)
    ax.plot([0, 1], [0, 1], "k--", lw=0.8)
    ax.set_title("ROC")
    fig.tight_layout()
    return _save(fig, path)


def plot_confusion(cm: Sequence[Sequence[int]], classes: Sequence[str], path: Path) -> Path:
    """The confusion matrix (rows: true class, columns: predicted)."""
    fig, ax = plt.subplots(figsize=(4.5, 4))
    ConfusionMatrixDisplay(np.asarray(cm), display_labels=list(classes)).plot(
        ax=ax, colorbar=False, cmap="Blues"
    )
    fig.tight_layout()
    return _save(fig, path)


def plot_arms(summary: dict[str, dict[str, Any]], metrics: Sequence[str], path: Path) -> Path:
    """Mean +- std of each metric per arm (grouped bars)."""
    arms = list(summary)
    x = np.arange(len(metrics))
    width = 0.8 / max(len(arms), 1)
    fig, ax = plt.subplots(figsize=(1.4 * len(metrics) + 2, 4))
    for i, arm in enumerate(arms):
        means = [summary[arm].get(m, {}).get("mean") or 0.0 for m in metrics]
        stds = [summary[arm].get(m, {}).get("std") or 0.0 for m in metrics]
        ax.bar(x + i * width - 0.4 + width / 2, means, width, yerr=stds, capsize=3, label=arm)
    ax.set_xticks(x)
    ax.set_xticklabels(list(metrics), rotation=20)
    ax.set_ylim(0, 1.05)
    ax.set_title("Test metrics per arm (mean ± std over seeds)")
    ax.legend()
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return _save(fig, path)
