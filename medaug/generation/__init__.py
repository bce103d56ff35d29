"""Generators for a dataset's classes, the one place ``balance``, ``generate`` and the
experiment's ``gan`` arm all train and sample them:

- :mod:`~medaug.generation.settings`: :class:`GenerationSettings` and the defaults;
- :mod:`~medaug.generation.fitting`: :class:`GeneratorSpec` (``GeneratorSpec.of``) and
  :class:`GeneratorFitter`: per class or one conditional model, checkpointed as it goes,
  resumable;
- :mod:`~medaug.generation.checkpoint`: what a checkpoint holds, saving and loading it;
- :mod:`~medaug.generation.sampling`: deterministic sampling into files or tensors;
- :mod:`~medaug.generation.writer`: generator output to integer pixels, new UIDs;
- :mod:`~medaug.generation.progress` and :mod:`~medaug.generation.grids`: what a fit
  reports and the image grids it draws.

The audit of what they make is :func:`medaug.auditing.audit_classes`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from medaug.lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "CheckpointInfo": "checkpoint",
    "DataShape": "fitting",
    "GenerationSettings": "settings",
    "GeneratorFitter": "fitting",
    "GeneratorSpec": "fitting",
    "build_generator": "checkpoint",
    "load_checkpoint": "checkpoint",
    "sample_images": "sampling",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS, globals())

if TYPE_CHECKING:
    from medaug.generation.checkpoint import CheckpointInfo as CheckpointInfo
    from medaug.generation.checkpoint import build_generator as build_generator
    from medaug.generation.checkpoint import load_checkpoint as load_checkpoint
    from medaug.generation.fitting import DataShape as DataShape
    from medaug.generation.fitting import GeneratorFitter as GeneratorFitter
    from medaug.generation.fitting import GeneratorSpec as GeneratorSpec
    from medaug.generation.sampling import sample_images as sample_images
    from medaug.generation.settings import GenerationSettings as GenerationSettings
