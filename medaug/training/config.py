"""Training settings (kept free of heavy imports: the CLI reads the defaults at start-up)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from medaug.errors import ConfigError
from medaug.precision import check_precision

MONITORS: dict[str, str] = {
    "balanced_accuracy": "max",
    "accuracy": "max",
    "roc_auc": "max",
    "f1": "max",
    "loss": "min",
}

#: ``class_weights`` values meaning "inverse class frequency" and "unweighted"
BALANCED_WEIGHTS = ("balanced", "auto", "true", "1")
NO_WEIGHTS = ("none", "off", "false", "0")
#: ``class_weights`` value meaning "an unweighted loss on batches drawn class-balanced"
SAMPLER = "sampler"


def uses_sampler(spec: str) -> bool:
    """Whether ``class_weights`` asks for the balanced sampler instead of loss weights."""
    return (spec or "").strip().lower() == SAMPLER


def parse_threshold(spec: str | float) -> float | None:
    """``"calibrate"`` -> ``None`` (Youden's J on validation); else a probability in (0, 1)."""
    text = str(spec).strip().lower()
    if text == "calibrate":
        return None
    try:
        value = float(text)
    except ValueError as exc:
        raise ConfigError(
            f"{{threshold}} must be 'calibrate' or a probability, got {spec!r}", "threshold"
        ) from exc
    if not 0.0 < value < 1.0:
        raise ConfigError(f"{{threshold}} must be in (0, 1), got {value}", "threshold")
    return value


def parse_weight_pairs(spec: str) -> dict[str, float] | None:
    """``CLASS=W,CLASS=W`` -> ``{CLASS: W}``; ``None`` for ``balanced``/``none`` spellings.

    Class names are checked against the data later (:func:`~medaug.training.trainer.
    parse_class_weights`); this checks the syntax, so a typo fails before any data is read.
    """
    text = (spec or "none").strip().lower()
    if text in NO_WEIGHTS or text in BALANCED_WEIGHTS or text == SAMPLER:
        return None
    weights: dict[str, float] = {}
    for part in spec.split(","):
        name, sep, value = part.partition("=")
        if not sep or not name.strip():
            raise ConfigError(
                f"{{class_weights}} {spec!r}: expected balanced, sampler, none or CLASS=W,...",
                "class_weights",
            )
        try:
            weights[name.strip()] = float(value)
        except ValueError as exc:
            raise ConfigError(
                f"{{class_weights}}: {value!r} is not a number", "class_weights"
            ) from exc
    return weights


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides how a classifier is trained (recorded with results).

    Checked when built: a bad value raises :class:`~medaug.errors.MedaugError` naming
    the option, before any data is read.
    """

    epochs: int = 20
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 1e-4
    #: "balanced" (loss weights by inverse class frequency), "sampler" (an unweighted
    #: loss on batches drawn with every class equally likely), "none", or "CLASS=W,..."
    class_weights: str = "sampler"
    label_smoothing: float = 0.05
    monitor: str = "balanced_accuracy"
    #: epochs without improvement before stopping; 0 disables early stopping
    patience: int = 8
    #: "calibrate" (Youden's J on validation) or a fixed probability such as "0.5"
    threshold: str = "calibrate"
    warmup_epochs: int = 1
    seed: int = 0
    #: auto|fp32|bf16|fp16 (:mod:`medaug.precision`: bf16 on CUDA and on AMX CPUs)
    precision: str = "auto"
    #: augmentation worker processes (-1: auto, see
    #: :func:`medaug.training.batches.auto_workers`); the images do not depend on it
    aug_workers: int = -1
    #: loss weight of each image that is not real (``origin`` other than ``"real"``:
    #: synthetic or augmented copies) relative to a real one; 1.0: all alike
    synthetic_weight: float = 1.0

    def __post_init__(self) -> None:
        if self.epochs < 1:
            raise ConfigError(f"{{epochs}} must be >= 1, got {self.epochs}", "epochs")
        if self.batch_size < 1:
            raise ConfigError(f"{{batch_size}} must be >= 1, got {self.batch_size}", "batch_size")
        if self.lr < 0 or self.weight_decay < 0:
            raise ConfigError("{lr} and {weight_decay} must be >= 0", "lr", "weight_decay")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ConfigError(
                f"{{label_smoothing}} must be in [0, 1), got {self.label_smoothing}",
                "label_smoothing",
            )
        if self.monitor not in MONITORS:
            raise ConfigError(
                f"unknown {{monitor}} {self.monitor!r}; choose from {', '.join(MONITORS)}",
                "monitor",
            )
        if self.patience < 0 or self.warmup_epochs < 0 or self.seed < 0:
            raise ConfigError(
                "{patience}, {warmup_epochs} and {seed} must be >= 0",
                "patience",
                "warmup_epochs",
                "seed",
            )
        if self.aug_workers < -1:
            raise ConfigError(
                f"{{aug_workers}} must be >= 0 (or -1: auto), got {self.aug_workers}",
                "aug_workers",
            )
        if not 0.0 < self.synthetic_weight <= 100.0:
            raise ConfigError(
                f"{{synthetic_weight}} must be in (0, 100], got {self.synthetic_weight}",
                "synthetic_weight",
            )
        object.__setattr__(self, "precision", check_precision(self.precision))
        parse_threshold(self.threshold)
        parse_weight_pairs(self.class_weights)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
