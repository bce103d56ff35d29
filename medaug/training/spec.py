"""Which classifier a run builds: :class:`ModelSpec`, and how it is made:
:class:`Recipe` (kept free of heavy imports)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from medaug.training.config import TrainConfig

if TYPE_CHECKING:
    import albumentations as A
    from torch import nn


@dataclass(frozen=True)
class ModelSpec:
    """Which classifier to build: registry name, plugin options, pretrained flag."""

    classifier: str
    options: dict[str, Any] = field(default_factory=dict)
    pretrained: bool = False

    def build(self, *, num_classes: int, in_chans: int, image_size: int) -> nn.Module:
        """The network, through :func:`medaug.create_classifier`."""
        from medaug.plugins import create_classifier

        options = dict(self.options)
        if self.pretrained:
            options["pretrained"] = True
        return create_classifier(
            self.classifier,
            num_classes=num_classes,
            in_chans=in_chans,
            image_size=image_size,
            **options,
        )

    def checkpoint_options(self) -> dict[str, Any]:
        """Options to rebuild the architecture (never re-requests weights: the checkpoint
        holds them)."""
        return {k: v for k, v in self.options.items() if k not in ("checkpoint", "pretrained")}


@dataclass(frozen=True)
class Recipe:
    """How a classifier is made: which network (``spec``), how it is trained (``config``,
    seed included) and how its training images are augmented (``pipeline``, an
    albumentations pipeline; ``None``: not augmented)."""

    spec: ModelSpec
    config: TrainConfig = field(default_factory=TrainConfig)
    pipeline: A.Compose | None = None
