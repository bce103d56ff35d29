"""Training settings (kept free of heavy imports: the CLI reads the defaults at start-up)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

MONITORS: dict[str, str] = {
    "balanced_accuracy": "max",
    "accuracy": "max",
    "roc_auc": "max",
    "f1": "max",
    "loss": "min",
}


@dataclass
class TrainConfig:
    """Everything that decides how a classifier is trained (recorded with results)."""

    epochs: int = 20
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 1e-4
    #: "balanced" (inverse class frequency), "none", or "CLASS=W,CLASS=W"
    class_weights: str = "balanced"
    label_smoothing: float = 0.05
    monitor: str = "balanced_accuracy"
    #: epochs without improvement before stopping; 0 disables early stopping
    patience: int = 8
    #: "calibrate" (Youden's J on validation) or a fixed probability such as "0.5"
    threshold: str = "calibrate"
    warmup_epochs: int = 1
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
