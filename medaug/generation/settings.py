"""How generators are trained: the defaults ``balance`` and ``experiment`` share, and
:class:`GenerationSettings`, what both hand to the fitting with every default resolved
(:meth:`~medaug.generation.fitting.GeneratorSpec.of` turns it into a spec for the data
at hand)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: training length per generator when neither ``--steps`` nor ``--epochs`` is given, in
#: optimisation steps, so that a class of 100 images trains as long as one of 1,349
#: (``docs/generators.md``: a few hundred steps give rough images, ~1,500 usable ones)
DEFAULT_STEPS = 1500
#: medaug 0.1.0's default length in epochs (what ``effective_epochs`` falls back to)
DEFAULT_EPOCHS = 25
DEFAULT_BATCH_SIZE = 64
#: steps between a generator's checkpoints (and progress grids) when it trains by steps
DEFAULT_CHECKPOINT_EVERY = 200
#: fewest images of a class a generator is trained on (fewer is refused; overridable)
MIN_CLASS_IMAGES = 4
#: below this many images a class gets a warning: GANs need many images
RECOMMENDED_CLASS_IMAGES = 50


def training_steps(steps: int | None, epochs: int | None, default: int) -> int | None:
    """A generator's training length in steps: ``steps`` when given, ``None`` when only
    ``epochs`` is (it trains by epochs), else ``default``. ``balance`` and ``experiment``
    share this rule."""
    if steps is not None or epochs is not None:
        return steps
    return default


def checkpoint_interval(steps: int | None, checkpoint_every: int | None) -> int | None:
    """Steps between a generator's checkpoints: ``checkpoint_every`` (default
    :data:`DEFAULT_CHECKPOINT_EVERY`) when it trains by ``steps``, ``None`` (every epoch)
    when it trains by epochs. ``balance`` and ``experiment`` share this rule."""
    if steps is None:
        return None
    return checkpoint_every or DEFAULT_CHECKPOINT_EVERY


@dataclass(frozen=True)
class GenerationSettings:
    """How generators are trained, with every default resolved: what ``balance``
    (:meth:`~medaug.balancing.config.BalanceConfig.generation`) and ``experiment``
    (:meth:`~medaug.experiments.ExperimentConfig.generation`) both hand to the fitting,
    which turns it into a :class:`~medaug.generation.fitting.GeneratorSpec` for the data at
    hand (:meth:`~medaug.generation.fitting.GeneratorSpec.of`)."""

    generator: str
    options: Mapping[str, Any] = field(default_factory=dict)
    #: optimisation steps per generator; ``None``: ``epochs`` instead
    steps: int | None = DEFAULT_STEPS
    epochs: int = DEFAULT_EPOCHS
    batch_size: int = DEFAULT_BATCH_SIZE
    #: steps between checkpoints; ``None``: every epoch
    checkpoint_every: int | None = DEFAULT_CHECKPOINT_EVERY
    #: fewest images of a class a generator is trained on
    min_images: int = MIN_CLASS_IMAGES
    seed: int = 0


__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_CHECKPOINT_EVERY",
    "DEFAULT_EPOCHS",
    "DEFAULT_STEPS",
    "MIN_CLASS_IMAGES",
    "RECOMMENDED_CLASS_IMAGES",
    "GenerationSettings",
    "checkpoint_interval",
    "training_steps",
]
