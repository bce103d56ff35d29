"""What one session of a ``balance`` run works with once the data is loaded."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from medaug.balancing.timings import Timings
from medaug.data.dataset import ImageDataset
from medaug.generation.fitting import TrainResult
from medaug.generation.sampling import SampleJob
from medaug.output.manifest import ManifestRow
from medaug.output.runstate import RunState

if TYPE_CHECKING:
    from medaug.curation import Curation, Curator


@dataclass
class Session:
    """What one session of a run works with, once the data is loaded."""

    ds: ImageDataset
    to_add: dict[str, int]
    folders: dict[str, str]
    state: RunState
    timings: Timings
    device: torch.device
    resumed: bool
    warnings: list[str]
    #: per class, every real input file -> its path in OUT (relative, as in the manifest)
    outputs: dict[str, dict[Path, str]] = field(default_factory=dict)
    #: per class whose count ``--max-synthetic-share`` lowered, what the strategy asked for
    capped: dict[str, int] = field(default_factory=dict)
    rows: list[ManifestRow] = field(default_factory=list)
    fitted: dict[str, TrainResult] = field(default_factory=dict)
    jobs: dict[str, SampleJob] = field(default_factory=dict)
    #: the run's filters (``--filter``), built when first needed
    curator: Curator | None = None
    #: per grown class, what curation kept
    curations: dict[str, Curation] = field(default_factory=dict)


__all__ = ["Session"]
