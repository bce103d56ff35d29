"""Experiment settings and the fingerprint that makes a results folder resumable."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from medaug.balancing.config import (
    DEFAULT_EPOCHS,
    DEFAULT_STEPS,
    MIN_CLASS_IMAGES,
    GenerationSettings,
    checkpoint_interval,
    training_steps,
)
from medaug.curation.policy import FILTERS, CurationPolicy
from medaug.data.options import DataOptions, parse_channels
from medaug.errors import ConfigError
from medaug.generation.settings import STEPS_PER_IMAGE
from medaug.output.strategy import DEFAULT_SHARE_CAP, check_share, check_strategy
from medaug.plugins import check_choice
from medaug.training.config import TrainConfig

#: the arms that sample the generator: ``gan`` (curated by ``--filter``) and one per filter
#: (``gan-manifold``...), all sharing one generator per seed
GAN_ARMS: tuple[str, ...] = ("gan", *(f"gan-{f}" for f in FILTERS if f != "none"))
#: every arm, in report order (each is a resampler: medaug.experiments.resample.RESAMPLERS)
ARMS: tuple[str, ...] = ("baseline", "gan", "classic", *GAN_ARMS[1:])
#: the arms an experiment runs unless told otherwise
DEFAULT_ARMS: tuple[str, ...] = ("baseline", "gan", "classic")


@dataclass(frozen=True)
class ExperimentConfig:
    """Everything ``medaug experiment`` needs; every arm shares ``train_config``."""

    train: Path
    test: Path
    out: Path
    classifier: str
    generator: str | None = None
    arms: tuple[str, ...] = DEFAULT_ARMS
    seeds: int = 3
    base_seed: int = 0
    image_size: int = 64
    channels: int | str = "auto"
    #: images added per selected class (the paper's 400); ``None`` = fill up per strategy
    synthetic: int | None = None
    strategy: str | None = None
    #: cap on the generated share of each class, for the gan arms (as ``balance``; the
    #: classic arm fills up as the strategy asks); ``None``: no cap
    max_synthetic_share: float | None = DEFAULT_SHARE_CAP
    #: which of the gan arm's sampled images are kept (``--filter``, as ``balance``)
    curation: CurationPolicy = field(default_factory=CurationPolicy)
    val_fraction: float = 0.2
    train_config: TrainConfig = field(default_factory=TrainConfig)
    augment: str = "standard"
    classic_augment: str = "standard"
    classifier_options: dict[str, Any] = field(default_factory=dict)
    pretrained: bool = False
    generator_options: dict[str, Any] = field(default_factory=dict)
    #: generator training length in epochs per unit (``None``: by steps)
    gen_epochs: int | None = None
    #: generator training length in steps per unit (overrides ``gen_epochs``; with
    #: neither, ``DEFAULT_STEPS`` as in ``balance``)
    gen_steps: int | None = None
    gen_batch_size: int = 64
    #: steps between generator checkpoints when training by steps (``None``: as balance,
    #: :data:`~medaug.balancing.config.DEFAULT_CHECKPOINT_EVERY`)
    gen_checkpoint_every: int | None = None
    #: fewest images of a class a generator is trained on (as ``balance``)
    min_class_images: int = MIN_CLASS_IMAGES
    #: audit each seed's synthetic images (recorded next to the accuracy figures)
    audit: bool = True
    #: options of the audit's domain extractor (e.g. ``{"steps": 200}``)
    audit_options: dict[str, Any] = field(default_factory=dict)
    positive_class: str | None = None
    device: str = "auto"
    #: how both --train and --test are read
    options: DataOptions = field(default_factory=DataOptions)

    def __post_init__(self) -> None:
        parse_channels(self.channels)
        unknown = [a for a in self.arms if a not in ARMS]
        if unknown or not self.arms:
            raise ConfigError(
                f"{{arms}}: unknown arm(s) {', '.join(unknown) or '(none)'}; choose from "
                f"{', '.join(ARMS)}",
                "arms",
            )
        if len(set(self.arms)) != len(self.arms):
            raise ConfigError("{arms} lists an arm twice", "arms")
        if self.generative and not self.generator:
            raise ConfigError("the gan arm needs {generator} NAME", "generator")
        if self.seeds < 1:
            raise ConfigError("{seeds} must be >= 1", "seeds")
        if self.gen_steps is not None and self.gen_steps < 1:
            raise ConfigError("{gen_steps} must be >= 1", "gen_steps")
        if self.gen_epochs is not None and self.gen_epochs < 1:
            raise ConfigError("{gen_epochs} must be >= 1", "gen_epochs")
        if self.gen_checkpoint_every is not None and self.gen_checkpoint_every < 1:
            raise ConfigError("{gen_checkpoint_every} must be >= 1", "gen_checkpoint_every")
        if self.min_class_images < 1:
            raise ConfigError("{min_class_images} must be >= 1", "min_class_images")
        if self.synthetic is not None and self.synthetic < 1:
            raise ConfigError("{synthetic} must be >= 1", "synthetic")
        if not 0.0 < self.val_fraction < 1.0:
            raise ConfigError("{val_fraction} must be between 0 and 1", "val_fraction")
        check_choice("classifier", self.classifier, self.classifier_options, field="classifier")
        if self.generative and self.generator:
            check_choice("generator", self.generator, self.generator_options, field="generator")
        check_strategy(self.strategy)
        check_share(self.max_synthetic_share)

    @property
    def generative(self) -> bool:
        """Whether some arm samples the generator."""
        return any(arm in GAN_ARMS for arm in self.arms)

    def curation_for(self, arm: str) -> CurationPolicy:
        """The curation of a gan arm: ``--filter``'s for ``gan``, the arm's own filter
        (with ``--draws-per-image`` and ``--filter-threshold``) for ``gan-<filter>``."""
        if arm == "gan":
            return self.curation
        return replace(self.curation, filter=arm.removeprefix("gan-"))

    @property
    def effective_gen_steps(self) -> int | None:
        """The generators' length in steps; ``None`` when trained by ``gen_epochs``."""
        return training_steps(self.gen_steps, self.gen_epochs, DEFAULT_STEPS)

    @property
    def effective_gen_epochs(self) -> int:
        """Epochs when training by epochs (ignored when :attr:`effective_gen_steps` is set)."""
        return self.gen_epochs if self.gen_epochs is not None else DEFAULT_EPOCHS

    def generation(self, seed: int) -> GenerationSettings:
        """How seed ``seed``'s generators are trained (defaults resolved as in balance)."""
        assert self.generator is not None, "only the gan arm trains generators"
        steps = self.effective_gen_steps
        return GenerationSettings(
            generator=self.generator,
            options=dict(self.generator_options),
            steps=steps,
            epochs=self.effective_gen_epochs,
            batch_size=self.gen_batch_size,
            checkpoint_every=checkpoint_interval(steps, self.gen_checkpoint_every),
            min_images=self.min_class_images,
            seed=seed,
            by_size=self.gen_steps is None and self.gen_epochs is None,
        )

    @property
    def seed_list(self) -> list[int]:
        return [self.base_seed + i for i in range(self.seeds)]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings; of the data options only what changes what is read."""
        d = asdict(self)
        d["train"], d["test"], d["out"] = str(self.train), str(self.test), str(self.out)
        d["arms"] = list(self.arms)
        d.pop("options")
        d["data_options"] = self.options.read_settings()
        return d

    def fingerprint(self) -> str:
        """Hash of every setting that changes a run's numbers.

        ``arms``, ``seeds`` and ``device`` are left out on purpose: adding seeds or arms
        to a finished experiment reuses the runs already there. Of ``data_options`` only
        what changes what is read counts (not ``cache_dir``/``workers``), and nothing
        when that is all defaults, so such a run keeps its fingerprint from before.
        """
        d = self.to_dict()
        for key in ("out", "arms", "seeds", "device"):
            d.pop(key)
        if not d["data_options"]:
            d.pop("data_options")
        if d["gen_steps"] is None:  # runs from before --gen-steps keep their fingerprint
            d.pop("gen_steps")
        # runs from before these settings keep their fingerprint when they are defaults
        if d["gen_checkpoint_every"] is None:
            d.pop("gen_checkpoint_every")
        if d["min_class_images"] == MIN_CLASS_IMAGES:
            d.pop("min_class_images")
        if d["max_synthetic_share"] is None:
            d.pop("max_synthetic_share")
        else:  # a cap once reached the classic arm too: such runs are not resumed
            d["max_synthetic_share_arms"] = "gan"
        if self.curation == CurationPolicy():
            d.pop("curation")
        if d["train_config"]["synthetic_weight"] == 1.0:
            d["train_config"].pop("synthetic_weight")
        for key in ("audit", "audit_options"):  # the audit changes no number of a run
            d.pop(key)
        if self.generative and self.gen_steps is None and self.gen_epochs is None:
            d["gen_steps_per_image"] = STEPS_PER_IMAGE  # a small class trains fewer steps
        d["train"] = str(Path(self.train).expanduser().resolve())
        d["test"] = str(Path(self.test).expanduser().resolve())
        blob = json.dumps(d, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]
