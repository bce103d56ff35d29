"""Which classifier a run builds: :class:`ModelSpec` (kept free of heavy imports)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
