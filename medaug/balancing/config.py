"""What a balance run is asked to do: :class:`BalanceConfig` and its defaults."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from medaug.balancing.files import LINK_MODES
from medaug.curation.policy import CurationPolicy
from medaug.data.options import DataOptions, parse_channels
from medaug.errors import ConfigError, MedaugError
from medaug.generation.settings import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_CHECKPOINT_EVERY,
    DEFAULT_EPOCHS,
    DEFAULT_STEPS,
    MIN_CLASS_IMAGES,
    RECOMMENDED_CLASS_IMAGES,
    GenerationSettings,
    checkpoint_interval,
    training_steps,
)
from medaug.output.strategy import DEFAULT_SHARE_CAP, check_share, check_strategy
from medaug.plugins import check_choice

#: the bundled demo's length and batch: recognizable X-rays in ~2 minutes on 2 CPU cores
DEMO_STEPS = 800
DEMO_BATCH_SIZE = 32
DEMO_OUT = Path("medaug-demo")
SAMPLE_NAME = "chestxray2017-sample"


def sample_data_path() -> Path:
    """The bundled ChestXray2017 sample (a few hundred 64 px images, CC BY 4.0)."""
    path = Path(str(resources.files("medaug.sample_data") / SAMPLE_NAME))
    if not path.is_dir():
        raise MedaugError(f"the bundled sample is missing from this installation ({path})")
    return path


@dataclass(frozen=True)
class BalanceConfig:
    """Everything ``medaug balance`` takes; ``data=None`` means the bundled sample.

    With neither ``steps`` nor ``epochs`` a generator trains :data:`DEFAULT_STEPS` steps
    (:data:`DEMO_STEPS` on the bundled sample), fewer for a class of under 188 images
    (:data:`~medaug.generation.settings.STEPS_PER_IMAGE` per image); ``batch_size=None`` takes
    :data:`DEFAULT_BATCH_SIZE` (:data:`DEMO_BATCH_SIZE` on the bundled sample).
    Invalid values raise :class:`MedaugError` when the config is built.
    """

    out: Path
    data: Path | None = None
    generator: str = "dcgan"
    strategy: str | float | Mapping[str, int] | None = None
    count: int | None = None
    image_size: int = 64
    channels: int | str = "auto"
    epochs: int | None = None
    batch_size: int | None = None
    #: training length in optimisation steps per generator (``None``: the default length,
    #: unless ``epochs`` is given)
    steps: int | None = None
    #: steps between checkpoints with ``steps`` (default :data:`DEFAULT_CHECKPOINT_EVERY`)
    checkpoint_every: int | None = None
    #: fewest images of a class to grow (fewer is refused)
    min_class_images: int = MIN_CLASS_IMAGES
    #: cap on the synthetic share of each grown class (``0.5``, the default: at most as
    #: many synthetic images as real ones); ``None``: as many as the strategy asks for
    max_synthetic_share: float | None = DEFAULT_SHARE_CAP
    #: audit the synthetic images at the end (figures, verdict, closest pairs in the report)
    audit: bool = True
    #: replace the images the audit flags as near-copies of training images (with a
    #: filter, the copy screen also rejects candidates)
    reject_memorized: bool = False
    #: which sampled images are kept (``--filter``; default: all)
    curation: CurationPolicy = field(default_factory=CurationPolicy)
    #: the audit's feature extractor: a registered name, a local weights file, options
    audit_extractor: str = "domain"
    audit_weights: Path | None = None
    audit_options: Mapping[str, Any] = field(default_factory=dict)
    seed: int = 0
    device: Any = "auto"  # str or torch.device
    resume: bool = False
    link: str = "hardlink"
    generator_options: Mapping[str, Any] = field(default_factory=dict)
    options: DataOptions = field(default_factory=DataOptions)
    progress: bool = True  # decoding progress of the data loader

    def __post_init__(self) -> None:
        object.__setattr__(self, "out", Path(self.out))
        if self.data is not None:
            object.__setattr__(self, "data", Path(self.data))
        parse_channels(self.channels)
        if self.link not in LINK_MODES:
            raise ConfigError(
                f"invalid {{link}} {self.link!r}: expected {'|'.join(LINK_MODES)}", "link"
            )
        if (self.epochs is not None and self.epochs < 1) or (
            self.batch_size is not None and self.batch_size < 1
        ):
            raise ConfigError(
                "{epochs} and {batch_size} must be at least 1", "epochs", "batch_size"
            )
        if (self.steps is not None and self.steps < 1) or (
            self.checkpoint_every is not None and self.checkpoint_every < 1
        ):
            raise ConfigError(
                "{steps} and {checkpoint_every} must be at least 1", "steps", "checkpoint_every"
            )
        if self.steps is not None and self.epochs is not None:
            raise ConfigError("give {epochs} or {steps}, not both", "epochs", "steps")
        if self.checkpoint_every is not None and self.epochs is not None:
            raise ConfigError(
                "{checkpoint_every} goes with {steps} (with {epochs}: every epoch)",
                "checkpoint_every",
                "steps",
                "epochs",
            )
        if self.reject_memorized and not self.audit:
            raise ConfigError("{reject_memorized} needs {audit}", "reject_memorized", "audit")
        if self.min_class_images < 1:
            raise ConfigError("{min_class_images} must be at least 1", "min_class_images")
        if self.seed < 0:
            raise ConfigError(f"{{seed}} must be >= 0, got {self.seed}", "seed")
        check_choice("generator", self.generator, self.generator_options, field="generator")
        check_strategy(self.strategy)
        check_share(self.max_synthetic_share)

    @property
    def deidentified(self) -> bool:
        """Whether OUT must carry no input file name (``--link copy-deidentified``)."""
        return self.link == "copy-deidentified"

    @property
    def bundled(self) -> bool:
        """Whether the bundled sample is balanced (no ``data`` given)."""
        return self.data is None

    @property
    def data_root(self) -> Path:
        """The resolved input folder."""
        return (sample_data_path() if self.data is None else self.data).resolve()

    @property
    def effective_steps(self) -> int | None:
        """Training length in steps; ``None`` when ``epochs`` was given instead."""
        default = DEMO_STEPS if self.bundled else DEFAULT_STEPS
        return training_steps(self.steps, self.epochs, default)

    @property
    def effective_epochs(self) -> int:
        """Epochs when training by epochs (ignored when :attr:`effective_steps` is set)."""
        return self.epochs if self.epochs is not None else DEFAULT_EPOCHS

    @property
    def effective_checkpoint_every(self) -> int | None:
        """Steps between checkpoints (``None``: every epoch, when training by epochs)."""
        return checkpoint_interval(self.effective_steps, self.checkpoint_every)

    @property
    def effective_batch_size(self) -> int:
        if self.batch_size is not None:
            return self.batch_size
        return DEMO_BATCH_SIZE if self.bundled else DEFAULT_BATCH_SIZE

    def generation(self) -> GenerationSettings:
        """How this run trains its generators (defaults resolved)."""
        return GenerationSettings(
            generator=self.generator,
            options=dict(self.generator_options),
            steps=self.effective_steps,
            epochs=self.effective_epochs,
            batch_size=self.effective_batch_size,
            checkpoint_every=self.effective_checkpoint_every,
            min_images=self.min_class_images,
            seed=self.seed,
            by_size=self.steps_by_size,
        )

    @property
    def steps_by_size(self) -> bool:
        """Whether the default length applies, shortened for a small class
        (:func:`~medaug.generation.settings.steps_for_size`): neither ``steps`` nor
        ``epochs`` given."""
        return self.steps is None and self.epochs is None


__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_CHECKPOINT_EVERY",
    "DEFAULT_EPOCHS",
    "DEFAULT_STEPS",
    "DEMO_BATCH_SIZE",
    "DEMO_OUT",
    "DEMO_STEPS",
    "MIN_CLASS_IMAGES",
    "RECOMMENDED_CLASS_IMAGES",
    "BalanceConfig",
    "GenerationSettings",
    "checkpoint_interval",
    "sample_data_path",
    "training_steps",
]
