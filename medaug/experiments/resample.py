"""The experiment's arms as resamplers, in the imbalanced-learn style.

Every arm is a :class:`Resampler` whose one public method,
:meth:`Resampler.fit_resample`, takes the training part of the train folder and returns
it with extra images per class (how many: :meth:`Resampler.extra_counts`, from
``--synthetic`` / ``--strategy`` as :func:`medaug.balancing.resolve_targets` reads them):

- ``baseline`` (:class:`Baseline`): nothing added;
- ``gan`` (:class:`GenerativeOversampler`): images sampled from generators fitted on the
  training part only (never on validation or test images), through the same
  :class:`~medaug.generation.fitting.GeneratorFitter` as ``medaug balance``: per class or
  one conditional model, checkpointed as it goes, so an interrupted experiment resumes
  mid-generator;
- ``classic`` (:class:`AugmentedOversampler`): random oversampling with replacement, each
  copy augmented once with an albumentations pipeline (the cheap alternative).

:data:`RESAMPLERS` maps arm names to the factories that build them for one seed.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch

from medaug.atomic import atomic_write_json
from medaug.curation import CurationPolicy, Curator
from medaug.data.names import class_folder_name
from medaug.errors import ConfigError, MedaugError
from medaug.experiments.config import GAN_ARMS
from medaug.generation.fitting import DataShape, GeneratorFitter, GeneratorSpec
from medaug.generation.grids import save_grid
from medaug.generation.progress import LineReporter
from medaug.generation.sampling import stream_images
from medaug.generation.settings import GenerationSettings
from medaug.output.strategy import cap_share, resolve_targets
from medaug.training.augment import Augmenter, load_pipeline
from medaug.training.data import TensorData

if TYPE_CHECKING:
    from medaug.auditing import PreparedExtractor
    from medaug.experiments.config import ExperimentConfig

Log = Callable[[str], None]


class Resampler(ABC):
    """Adds images to the classes a sampling strategy selects."""

    #: the ``origin`` recorded for the images this resampler adds
    origin: ClassVar[str] = ""
    #: the audit of the images the last :meth:`fit_resample` added (``None``: not audited)
    audit_result: dict[str, Any] | None = None
    #: per class, what curation (``--filter``) kept of the last :meth:`fit_resample`'s
    #: candidates (``None``: no filter)
    curation_result: dict[str, Any] | None = None

    def __init__(
        self,
        *,
        synthetic: int | None = None,
        strategy: str | None = None,
        max_share: float | None = None,
    ) -> None:
        self.synthetic = synthetic
        self.strategy = strategy
        self.max_share = max_share

    def extra_counts(self, train: TensorData) -> dict[str, int]:
        """Images to add per class: ``synthetic`` per selected class, else fill up per
        strategy (every class listed, zeros included), each class's added share capped at
        ``max_share``."""
        counts = train.counts()
        targets = cap_share(
            counts, resolve_targets(counts, self.strategy, count=self.synthetic), self.max_share
        )
        return {c: int(targets.get(c, 0)) for c in train.classes}

    def fit_resample(self, train: TensorData) -> TensorData:
        """``train`` plus the extra images of each class."""
        counts = {c: n for c, n in self.extra_counts(train).items() if n > 0}
        data = train
        for cls, x in self._extra_images(train, counts).items():
            y = torch.full((x.shape[0],), train.classes.index(cls), dtype=torch.int64)
            data = data.extend(x, y, self.origin)
        return data

    @abstractmethod
    def _extra_images(
        self, train: TensorData, counts: Mapping[str, int]
    ) -> dict[str, torch.Tensor]:
        """Images ``(n, C, H, W)`` in ``[0, 1]`` per class of ``counts``."""


class Baseline(Resampler):
    """The training part unchanged."""

    def extra_counts(self, train: TensorData) -> dict[str, int]:
        return dict.fromkeys(train.classes, 0)

    def _extra_images(
        self, train: TensorData, counts: Mapping[str, int]
    ) -> dict[str, torch.Tensor]:
        return {}


class AugmentedOversampler(Resampler):
    """Random oversampling with replacement, each copy augmented once."""

    origin = "oversampled"

    def __init__(self, pipeline: Any, *, seed: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pipeline, self.seed = pipeline, seed

    def _extra_images(
        self, train: TensorData, counts: Mapping[str, int]
    ) -> dict[str, torch.Tensor]:
        rng = np.random.default_rng(self.seed)
        augmenter = Augmenter(self.pipeline, seed=self.seed + 7919)
        out: dict[str, torch.Tensor] = {}
        for cls, n in counts.items():
            pool = torch.nonzero(train.y == train.classes.index(cls)).flatten().numpy()
            if len(pool) == 0:
                raise MedaugError(f"class {cls!r} has no training images to oversample")
            idx = rng.choice(pool, size=n, replace=True)
            out[cls] = augmenter(train.x[torch.as_tensor(idx)])
        return out


@dataclass(frozen=True)
class GanArm:
    """Which gan arm a :class:`GenerativeOversampler` is: its name (``gan``,
    ``gan-<filter>``: it names the arm's grids and audit in the seed's shared generator
    folder), its curation, and the options of its audit's extractor (``None``: no audit)."""

    name: str = "gan"
    curation: CurationPolicy = field(default_factory=CurationPolicy)
    audit_options: Mapping[str, Any] | None = None


class GenerativeOversampler(Resampler):
    """Images sampled from generators fitted on the training part.

    Checkpoints go to ``work_dir/<unit>.pt`` (one per class, or ``all-classes.pt`` for a
    conditional generator) and a grid of the first 64 images per class to
    ``work_dir/<class>.png`` (``<arm>-<class>.png`` for a ``gan-<filter>`` arm). A
    complete checkpoint is reused (the gan arms of a seed share it); a partial one resumes.
    """

    origin = "synthetic"

    def __init__(
        self,
        settings: GenerationSettings,
        work_dir: Path,
        *,
        device: torch.device | str = "cpu",
        log: Log = lambda _m: None,
        arm: GanArm | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        arm = arm or GanArm()
        self.name, self.curation = arm.name, arm.curation
        #: the audit's extractor options; ``None``: no audit
        self.audit_options = None if arm.audit_options is None else dict(arm.audit_options)
        self.audit_result = None
        self.curation_result = None
        self._extractor: PreparedExtractor | None = None
        self.settings, self.seed = settings, settings.seed
        self.device = torch.device(device)
        self.work_dir, self.log = Path(work_dir), log

    def spec(self, train: TensorData) -> GeneratorSpec:
        """The generator settings for ``train``'s image size and channels."""
        return GeneratorSpec.of(
            self.settings, DataShape(train.image_size, train.channels), self.device
        )

    def _extra_images(
        self, train: TensorData, counts: Mapping[str, int]
    ) -> dict[str, torch.Tensor]:
        if not counts:
            return {}
        fitter = GeneratorFitter(
            self.spec(train), train.classes, LineReporter(self.log, f"seed {self.seed}: ")
        )
        for warning in fitter.check_sizes(train.counts(), sorted(counts)):
            self.log(f"seed {self.seed}: warning: {warning}")
        units = fitter.units(sorted(counts))
        images, out = train.x * 2 - 1, {}
        curator = self._curator(train) if self.curation.active else None
        curations: dict[str, Any] = {}
        for unit in units:
            result = fitter.fit(
                unit,
                images,
                train.y,
                checkpoint=self.work_dir / f"{class_folder_name(unit.name)}.pt",
            )
            for cls in unit.classes:
                index = train.classes.index(cls)
                stream: Sequence[int] = range(counts[cls])
                if curator is not None:
                    kept = curator.curate(result.generator, cls, index, counts[cls], self.seed)
                    self.log(f"seed {self.seed}: {kept.sentence(cls)}")
                    curations[cls], stream = kept.to_json(), kept.stream
                fake = stream_images(result.generator, cls, index, self.seed, stream)
                # quantised like the 8-bit files medaug balance writes
                pixels = ((fake.float().cpu() + 1) / 2).clamp(0, 1).mul(255).round()
                if len(pixels):
                    grid = pixels[:64] / 127.5 - 1
                    save_grid(self.work_dir / self._file(class_folder_name(cls), "png"), grid)
                out[cls] = pixels.reshape(-1, *train.x.shape[1:]) / 255.0
        self.curation_result = curations or None
        if self.audit_options is not None:
            self.audit_result = self._audit(train, out)
            atomic_write_json(self.work_dir / self._file("audit", "json"), self.audit_result)
        return out

    def _file(self, stem: str, suffix: str) -> str:
        """``<stem>.<suffix>`` for the ``gan`` arm, ``<arm>-<stem>.<suffix>`` for the
        others (the gan arms of a seed share ``work_dir``)."""
        return f"{stem}.{suffix}" if self.name == "gan" else f"{self.name}-{stem}.{suffix}"

    def _prepared(self, train: TensorData) -> PreparedExtractor:
        """The audit's extractor on the training part's real images (built once)."""
        if self._extractor is None:
            from medaug.auditing import ExtractorSpec

            spec = ExtractorSpec(options=self.audit_options or {})
            self._extractor = spec.prepare(train.x * 2 - 1, seed=self.seed, device=self.device)
        return self._extractor

    def _curator(self, train: TensorData) -> Curator:
        """The filters on the training part's real images (the audit's extractor)."""
        return Curator(self.curation, self._prepared(train), train.x * 2 - 1, train.y)

    def _audit(self, train: TensorData, extra: Mapping[str, torch.Tensor]) -> dict[str, Any]:
        """The audit (:func:`medaug.auditing.audit_classes`, as ``balance`` and ``medaug
        audit`` run it) of each class's synthetic images against the training part's real
        images of that class, which the generator learned from."""
        from medaug.auditing import AuditSettings, ClassImages, audit_classes

        settings, real_all = AuditSettings(), train.x * 2 - 1
        pairs: list[ClassImages] = []
        skipped: dict[str, Any] = {}
        for cls, images in sorted(extra.items()):
            real = real_all[train.y == train.classes.index(cls)]
            if len(real) < settings.min_real or len(images) < settings.min_synthetic:
                skipped[cls] = {
                    "skipped": f"the audit needs at least {settings.min_real} real and "
                    f"{settings.min_synthetic} synthetic images, got {len(real)} and {len(images)}"
                }
            else:
                pairs.append(ClassImages(cls, real, images * 2 - 1))
        if not pairs:
            return {"extractor": None, "classes": skipped}
        prepared = self._prepared(train)
        report = audit_classes(pairs, prepared, settings)
        for cls, result in report.classes.items():
            self.log(f"seed {self.seed}: audit of {cls}: {result.verdict.summary}")
        audited = {cls: result.to_json() for cls, result in report.classes.items()}
        return {"extractor": prepared.name, "classes": dict(sorted({**skipped, **audited}.items()))}


@dataclass(frozen=True)
class ArmContext:
    """What an arm's resampler is built from, for one seed."""

    cfg: ExperimentConfig
    seed: int
    device: torch.device
    out: Path
    log: Log


def _baseline(ctx: ArmContext) -> Resampler:
    return Baseline()


def _gan(ctx: ArmContext, arm: str = "gan") -> Resampler:
    """A gan arm: the seed's generator (shared by every gan arm), curated as the arm says."""
    cfg = ctx.cfg
    if not cfg.generator:
        raise ConfigError("the gan arm needs {generator} NAME", "generator")
    return GenerativeOversampler(
        cfg.generation(ctx.seed),
        ctx.out / "generators" / f"seed{ctx.seed}",
        device=ctx.device,
        log=ctx.log,
        arm=GanArm(arm, cfg.curation_for(arm), cfg.audit_options if cfg.audit else None),
        synthetic=cfg.synthetic,
        strategy=cfg.strategy,
        max_share=cfg.max_synthetic_share,
    )


def _classic(ctx: ArmContext) -> Resampler:
    cfg = ctx.cfg
    return AugmentedOversampler(
        load_pipeline(cfg.classic_augment),
        seed=ctx.seed,
        synthetic=cfg.synthetic,
        strategy=cfg.strategy,  # uncapped: --max-synthetic-share is for generated images
    )


#: arm name -> factory of its resampler for one seed
RESAMPLERS: dict[str, Callable[[ArmContext], Resampler]] = {
    "baseline": _baseline,
    "classic": _classic,
    **{arm: partial(_gan, arm=arm) for arm in GAN_ARMS},
}

__all__ = [
    "RESAMPLERS",
    "ArmContext",
    "AugmentedOversampler",
    "Baseline",
    "GanArm",
    "GenerativeOversampler",
    "Resampler",
]
