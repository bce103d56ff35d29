"""How generators are trained: the defaults ``balance`` and ``experiment`` share, and
:class:`GenerationSettings`, what both hand to the fitting with every default resolved
(:meth:`~medaug.generation.fitting.GeneratorSpec.of` turns it into a spec for the data
at hand)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: training length per generator when neither ``--steps`` nor ``--epochs`` is given, in
#: optimisation steps (a class of under 188 images trains fewer: :func:`steps_for_size`)
#: (``docs/generators.md``: a few hundred steps give rough images, ~1,500 usable ones)
DEFAULT_STEPS = 1500
#: medaug 0.1.0's default length in epochs (what ``effective_epochs`` falls back to)
DEFAULT_EPOCHS = 25
DEFAULT_BATCH_SIZE = 64
#: a small class's default length: at most this many steps per training image (a class of
#: 80 images trains 640 steps, not 1,500; from 188 images on the length is DEFAULT_STEPS).
#: Measured (docs/generators.md#small-classes): 1,500 steps on 80 Normal films collapsed
#: (audit recall 0.00, coverage 0.00); 600 steps on 80 and ~800 on 100 did not
STEPS_PER_IMAGE = 8
#: the shortest default length of a small class, in steps
MIN_DEFAULT_STEPS = 200
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


def steps_for_size(steps: int, n_images: int) -> int:
    """The default length ``steps`` shortened for a class of ``n_images``:
    ``min(steps, max(MIN_DEFAULT_STEPS, STEPS_PER_IMAGE * n_images))``."""
    return min(steps, max(MIN_DEFAULT_STEPS, STEPS_PER_IMAGE * n_images))


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
    #: ``steps`` is the default length: a small class trains fewer (:func:`steps_for_size`)
    by_size: bool = False


__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_CHECKPOINT_EVERY",
    "DEFAULT_EPOCHS",
    "DEFAULT_STEPS",
    "MIN_CLASS_IMAGES",
    "MIN_DEFAULT_STEPS",
    "RECOMMENDED_CLASS_IMAGES",
    "STEPS_PER_IMAGE",
    "GenerationSettings",
    "checkpoint_interval",
    "steps_for_size",
    "training_steps",
]
