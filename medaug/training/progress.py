"""Progress lines of classifier training, shared by ``medaug train`` and experiments."""

from __future__ import annotations

from collections.abc import Mapping


def epoch_line(row: Mapping[str, float], epochs: int, *, digits: int = 4) -> str:
    """One epoch's history row as a progress line (validation part only when present)."""
    line = (
        f"epoch {int(row['epoch'])}/{epochs}: loss {row['train_loss']:.{digits}f} "
        f"acc {row['train_accuracy']:.{digits}f}"
    )
    if "val_loss" in row:
        line += (
            f" | val loss {row['val_loss']:.{digits}f} acc {row['val_accuracy']:.{digits}f} "
            f"bal {row['val_balanced_accuracy']:.{digits}f}"
        )
    return line
