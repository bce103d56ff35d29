"""Fitting generators: one per class to grow, or one conditional model for all classes.

This is the one place medaug trains generators; ``balance`` and the experiment's
generative arm both use it. :class:`GeneratorFitter` builds the generators through the
plugin registry (so bad names, options and sizes fail before anything is written),
decides the training units (:func:`plan_units`), and trains each one with a checkpoint
after every epoch, fixed-noise grids and a loss history (:func:`train`); a unit whose
checkpoint exists resumes from it, or is skipped when its training is complete.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch

from medaug.contracts.generator import Generator
from medaug.digests import sha256_file
from medaug.errors import MedaugError
from medaug.generation.checkpoint import (
    CheckpointInfo,
    load_checkpoint,
    save_checkpoint,
)
from medaug.generation.grids import save_grid
from medaug.generation.progress import NullReporter, Reporter
from medaug.generation.settings import (
    MIN_CLASS_IMAGES,
    RECOMMENDED_CLASS_IMAGES,
    GenerationSettings,
    steps_for_size,
)

GRID_SEED = 1234  # fixed noise for the per-epoch grids
GRID_N = 64
CONDITIONAL_UNIT = "all-classes"

_MUST_MATCH = ("generator", "image_size", "channels", "class_name", "seed", "epochs", "batch_size")


@dataclass(frozen=True)
class DataShape:
    """What a generator spec needs to know of the data: image size and channels, and how
    its synthetic images are written (file format and bit depth)."""

    image_size: int
    channels: int
    output_format: str = "png"
    bit_depth: int = 8


@dataclass(frozen=True)
class GeneratorSpec:
    """Which generator to train and how: the same for every unit of a run."""

    name: str
    options: Mapping[str, Any]
    image_size: int
    channels: int
    epochs: int
    batch_size: int
    seed: int
    device: torch.device
    #: how synthetic images are written later ("png" or "dicom") and their bit depth
    output_format: str = "png"
    bit_depth: int = 8
    #: training length in optimisation steps per unit (overrides ``epochs``), whatever
    #: the class size (unless ``by_size``)
    steps: int | None = None
    #: steps between checkpoints (and progress grids) with ``steps``; ``None`` = every epoch
    checkpoint_every: int | None = None
    #: fewest images of a grown class (see :data:`MIN_CLASS_IMAGES`)
    min_images: int = MIN_CLASS_IMAGES
    #: ``steps`` is the default length, shortened for small classes (``steps_for_size``)
    by_size: bool = False

    @classmethod
    def of(
        cls, settings: GenerationSettings, data: DataShape, device: torch.device
    ) -> GeneratorSpec:
        """The spec of ``settings`` for data of shape ``data``, trained on ``device``: the
        one place a run's settings become a spec."""
        return cls(
            name=settings.generator,
            options=settings.options,
            image_size=data.image_size,
            channels=data.channels,
            epochs=settings.epochs,
            batch_size=settings.batch_size,
            seed=settings.seed,
            device=device,
            output_format=data.output_format,
            bit_depth=data.bit_depth,
            steps=settings.steps,
            checkpoint_every=settings.checkpoint_every,
            min_images=settings.min_images,
            by_size=settings.by_size and settings.steps is not None,
        )

    def epochs_for(self, n_images: int) -> int:
        """Epochs for a unit of ``n_images``: ``epochs``, or with ``steps`` the fewest
        epochs reaching that many steps of full batches (``n // batch`` steps per epoch);
        a default length is first shortened for a small class (:func:`steps_for_size`)."""
        if self.steps is None:
            return self.epochs
        steps = steps_for_size(self.steps, n_images) if self.by_size else self.steps
        return math.ceil(steps / steps_per_epoch(n_images, self.batch_size))

    def save_every_for(self, n_images: int) -> int:
        """Epochs between checkpoints for a unit of ``n_images``."""
        if self.checkpoint_every is None:
            return 1
        return max(1, round(self.checkpoint_every / steps_per_epoch(n_images, self.batch_size)))


def steps_per_epoch(n_images: int, batch_size: int) -> int:
    """Optimisation steps in one epoch of full batches (the generators' convention)."""
    return max(1, n_images // max(1, min(batch_size, n_images)))


@dataclass(frozen=True)
class TrainingUnit:
    """One generator to train: for one class, or conditional for several."""

    name: str  # the class name, or CONDITIONAL_UNIT
    classes: tuple[str, ...]  # the classes it grows
    conditional: bool


def plan_units(to_grow: Sequence[str], *, conditional: bool) -> list[TrainingUnit]:
    """One unit per class to grow, or a single conditional unit for all of them."""
    grow = tuple(sorted(to_grow))
    if not grow:
        return []
    if conditional:
        return [TrainingUnit(CONDITIONAL_UNIT, grow, True)]
    return [TrainingUnit(cls, (cls,), False) for cls in grow]


class GeneratorFitter:
    """Builds, trains (or resumes) and returns the generators of one run.

    Construction builds one generator as a probe, so an unknown generator, a bad option
    or an unsupported image size is a :class:`MedaugError` before any file is written.
    """

    def __init__(
        self, spec: GeneratorSpec, classes: Sequence[str], reporter: Reporter | None = None
    ) -> None:
        self.spec = spec
        self.classes = list(classes)
        self.reporter = reporter or NullReporter()
        self._spare: Generator | None = self._build(num_classes=1)
        self.conditional = self._spare.conditional
        if self.conditional:
            self._spare = self._build(num_classes=len(self.classes))

    def _build(self, *, num_classes: int) -> Generator:
        from medaug.plugins import create_generator

        return create_generator(
            self.spec.name,
            image_size=self.spec.image_size,
            channels=self.spec.channels,
            device=self.spec.device,
            num_classes=num_classes,
            **dict(self.spec.options),
        )

    def units(self, to_grow: Sequence[str]) -> list[TrainingUnit]:
        """The training units for growing ``to_grow``."""
        return plan_units(to_grow, conditional=self.conditional)

    def check_sizes(self, counts: Mapping[str, int], to_grow: Sequence[str]) -> list[str]:
        """Refuse a class to grow with fewer than ``spec.min_images`` images (a generator
        learns nothing from one image: it returns flat gray or copies); return warnings
        for classes below :data:`RECOMMENDED_CLASS_IMAGES`."""
        small = {
            c: counts.get(c, 0) for c in sorted(to_grow) if counts.get(c, 0) < self.spec.min_images
        }
        if small:
            listing = ", ".join(f"{c!r} has {n}" for c, n in small.items())
            raise MedaugError(
                f"too few images to train a generator: {listing} (minimum "
                f"{self.spec.min_images}; --min-class-images lowers it at your own risk)"
            )
        return [
            f"class {c!r} has only {counts[c]} images: generators trained on fewer than "
            f"{RECOMMENDED_CLASS_IMAGES} images often collapse or copy them; check the audit"
            for c in sorted(to_grow)
            if counts[c] < RECOMMENDED_CLASS_IMAGES
        ]

    def fit(
        self,
        unit: TrainingUnit,
        images: torch.Tensor,
        targets: torch.Tensor,
        *,
        checkpoint: Path,
        grid_dir: Path | None = None,
    ) -> TrainResult:
        """Train ``unit`` on ``images`` ``(N, C, H, W)`` in ``[-1, 1]`` with class indices
        ``targets`` (into :attr:`classes`), checkpointing to ``checkpoint``."""
        if unit.conditional:
            x, labels = images, targets
        else:
            x, labels = images[targets == self.classes.index(unit.name)], None
        generator = self._spare if self._spare is not None else self._build(num_classes=1)
        self._spare = None
        options = dict(generator.options())
        job = TrainJob(
            name=unit.name,
            images=x,
            labels=labels,
            info=CheckpointInfo(
                generator=self.spec.name,
                generator_options=options,
                image_size=self.spec.image_size,
                channels=self.spec.channels,
                class_name=unit.name,
                class_names=list(self.classes) if unit.conditional else [unit.name],
                seed=self.spec.seed,
                epochs=self.spec.epochs_for(len(x)),
                epochs_done=0,
                batch_size=self.spec.batch_size,
                complete=False,
                output_format=self.spec.output_format,
                bit_depth=self.spec.bit_depth,
                history={},
            ),
            checkpoint=checkpoint,
            grid_dir=grid_dir,
            save_every=self.spec.save_every_for(len(x)),
        )
        return train(job, generator, self.reporter)


@dataclass
class TrainJob:
    """One generator to train: its data, where its checkpoint and grids go."""

    name: str  # display name (the class, or "all classes" for a conditional one)
    images: torch.Tensor
    labels: torch.Tensor | None
    info: CheckpointInfo  # settings; epochs_done / history / complete are filled in
    checkpoint: Path
    grid_dir: Path | None = None
    #: epochs between checkpoints and grids (the last epoch is always saved)
    save_every: int = 1


@dataclass
class TrainResult:
    """A trained generator and the checkpoint it was saved to."""

    generator: Generator
    info: CheckpointInfo
    checkpoint: Path
    sha256: str
    seconds: float
    resumed_from: int = 0
    history: dict[str, list[float]] = field(default_factory=dict)


class _Callback:
    """Collects losses, saves a grid and a checkpoint every ``job.save_every`` epochs and
    after the last one."""

    def __init__(self, job: TrainJob, generator: Generator, reporter: Reporter) -> None:
        self.job, self.generator, self.reporter = job, generator, reporter
        self.history: dict[str, list[float]] = {k: list(v) for k, v in job.info.history.items()}
        self.sha256 = ""
        self.info: CheckpointInfo | None = None

    def on_step(
        self, epoch: int, step: int, steps_per_epoch: int, losses: Mapping[str, float]
    ) -> None:
        for key, value in losses.items():
            self.history.setdefault(key, []).append(float(value))
        self.reporter.step(self.job.name, epoch, step, steps_per_epoch, losses)

    def on_epoch_end(self, epoch: int, losses: Mapping[str, float]) -> None:
        done = epoch + 1
        if done % self.job.save_every and done < self.job.info.epochs:
            self.reporter.epoch_end(self.job.name, epoch, losses)
            return
        if self.job.grid_dir is not None:
            labels = None
            if self.generator.conditional and self.job.labels is not None:
                labels = self.job.labels[torch.arange(GRID_N) % len(self.job.labels)]
            grid = self.generator.sample(GRID_N, seed=GRID_SEED, labels=labels)
            save_grid(self.job.grid_dir / f"epoch_{epoch + 1:04d}.png", grid)
        self.info, self.sha256 = save(self.job, self.generator, self.history)
        self.reporter.epoch_end(self.job.name, epoch, losses)


def save(
    job: TrainJob, generator: Generator, history: Mapping[str, list[float]]
) -> tuple[CheckpointInfo, str]:
    """Checkpoint ``generator`` for ``job``; return what was saved and, for the final
    (complete) checkpoint, the file's SHA-256."""
    done = int(generator.epochs_done)
    info = replace(
        job.info,
        epochs_done=done,
        complete=done >= job.info.epochs,
        generator_options=dict(generator.options()),
        history={k: list(v) for k, v in history.items()},
    )
    sha = save_checkpoint(job.checkpoint, info, generator.state_dict(), digest=info.complete)
    return info, sha


def _check_compatible(job: TrainJob, found: CheckpointInfo) -> None:
    for key in _MUST_MATCH:
        old, new = getattr(found, key), getattr(job.info, key)
        if old != new:
            raise MedaugError(
                f"checkpoint {job.checkpoint} was made with {key}={old!r}, this run uses "
                f"{new!r}; use another --out"
            )


def train(job: TrainJob, generator: Generator, reporter: Reporter | None = None) -> TrainResult:
    """Train (or resume, or skip when already complete) ``generator`` for ``job``."""
    reporter = reporter or NullReporter()
    start_epoch = 0
    if job.checkpoint.exists():
        found, state = load_checkpoint(job.checkpoint)
        _check_compatible(job, found)
        generator.load_state_dict(state)
        job = replace(job, info=replace(job.info, history=found.history))
        start_epoch = int(generator.epochs_done)
        if found.complete and start_epoch >= job.info.epochs:
            reporter.message(f"{job.name}: training already complete ({start_epoch} epochs)")
            return TrainResult(
                generator,
                found,
                job.checkpoint,
                sha256_file(job.checkpoint),
                0.0,
                start_epoch,
                found.history,
            )
        reporter.message(f"{job.name}: resuming after epoch {start_epoch}/{job.info.epochs}")
    callback = _Callback(job, generator, reporter)
    reporter.training(job.name, job.info.epochs, start_epoch)
    t0 = time.perf_counter()
    generator.fit(
        job.images,
        epochs=job.info.epochs,
        batch_size=job.info.batch_size,
        seed=job.info.seed,
        labels=job.labels,
        callback=callback,
    )
    seconds = time.perf_counter() - t0
    if callback.info is None or not callback.info.complete:
        callback.info, callback.sha256 = save(job, generator, callback.history)
    info, sha = callback.info, callback.sha256
    return TrainResult(generator, info, job.checkpoint, sha, seconds, start_epoch, callback.history)
