"""What one training run reads, fits and writes: :class:`TrainRequest`; how an
evaluation runs: :class:`EvalSettings`.

Kept free of heavy imports, and checked when built, so that a bad option fails at
once with a message naming it, before any data is read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from medaug.data.options import DataOptions, parse_channels
from medaug.errors import ConfigError, MedaugError
from medaug.training.config import TrainConfig
from medaug.training.spec import ModelSpec

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class TrainRequest:
    """A classifier training run, as :func:`medaug.training.train` performs it.

    - ``data``: the training dataset (class folders, or files labelled through
      ``options``); ``out``: the run folder (created; must not overlap the data);
    - ``model``: which classifier; ``config``: how it is trained (seed included: it also
      seeds the validation split);
    - ``val``: a separate validation dataset read like ``data``; when ``None`` a
      patient-grouped fraction ``val_split`` of ``data`` is held out;
    - ``image_size``, ``channels`` (1, 3 or ``"auto"``) and ``options``: how images
      are read;
    - ``augment``: albumentations preset name or JSON/YAML file (saved as augment.json);
    - ``positive_class``: the positive class of a binary problem (default: the class not
      named like normal/healthy, else the second in sorted order);
    - ``device``: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``.
    """

    data: Path
    out: Path
    model: ModelSpec
    config: TrainConfig = field(default_factory=TrainConfig)
    val: Path | None = None
    val_split: float = 0.2
    image_size: int = 64
    channels: int | str = "auto"
    augment: str = "standard"
    positive_class: str | None = None
    options: DataOptions = field(default_factory=DataOptions)
    device: str = "auto"

    def __post_init__(self) -> None:
        object.__setattr__(self, "data", Path(self.data))
        object.__setattr__(self, "out", Path(self.out))
        if self.val is not None:
            object.__setattr__(self, "val", Path(self.val))
        if not 0.0 < self.val_split < 1.0:
            raise ConfigError(
                f"{{val_split}} must be between 0 and 1, got {self.val_split}", "val_split"
            )
        if not isinstance(self.image_size, int) or self.image_size < 8:
            raise ConfigError(
                f"{{image_size}} must be an integer >= 8, got {self.image_size!r}", "image_size"
            )
        parsed = parse_channels(self.channels)
        object.__setattr__(self, "channels", "auto" if parsed is None else parsed)
        object.__setattr__(self, "augment", str(self.augment))

    @property
    def validation(self) -> str:
        """Where validation comes from, as metrics.json records it."""
        return str(self.val) if self.val is not None else f"patient split {self.val_split}"


@dataclass(frozen=True)
class EvalSettings:
    """How :func:`medaug.training.evaluate` applies a trained model.

    - ``threshold``: overrides the decision threshold stored in the model (a probability
      in (0, 1)); ``None`` keeps the stored, validation-calibrated one;
    - ``device``: ``auto``, ``cpu``, ``cuda``, ``cuda:N`` or a :class:`torch.device`;
    - ``progress``: show decode progress bars on stderr.
    """

    threshold: float | None = None
    device: str | torch.device = "auto"
    progress: bool = False

    def __post_init__(self) -> None:
        if self.threshold is not None and not 0.0 < self.threshold < 1.0:
            raise MedaugError(f"--threshold must be in (0, 1), got {self.threshold}")
