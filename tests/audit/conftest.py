"""Shared fixtures of the audit tests: the bundled real sample at 32 px and a trained extractor."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from medaug.auditing import ExtractorSpec, ImageSet, PreparedExtractor, prepare_extractor
from medaug.data import DataOptions, load_dataset

SAMPLE = Path(__file__).resolve().parents[2] / "medaug" / "sample_data" / "chestxray2017-sample"
SIZE = 32
#: short training keeps the suite fast; the figures only need a consistent extractor
STEPS = 40


@dataclass(frozen=True)
class Images:
    x: torch.Tensor
    groups: list[str]
    names: list[str]

    def set(self) -> ImageSet:
        """As the audit takes them: images, file names, patient ids."""
        return ImageSet(self.x, ids=tuple(self.names), groups=tuple(self.groups))


@pytest.fixture(scope="session")
def sample(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Images]:
    """The bundled real ChestXray2017 sample at 32 px, per class."""
    cache = tmp_path_factory.mktemp("audit-sample-cache")
    ds = load_dataset(
        SAMPLE, image_size=SIZE, channels=1, progress=False, options=DataOptions(cache_dir=cache)
    )
    out = {}
    for name in ds.classes:
        rows = ds.class_indices(name)
        out[name] = Images(
            x=ds.to_tensor(rows),
            groups=[ds.records[i].patient_id for i in rows],
            names=[ds.records[i].path.name for i in rows],
        )
    return out


@pytest.fixture(scope="session")
def normal(sample: dict[str, Images]) -> Images:
    return sample["NORMAL"]


@pytest.fixture(scope="session")
def domain(normal: Images) -> PreparedExtractor:
    """The domain extractor trained on the sample's NORMAL images (not cached on disk)."""
    return prepare_extractor(
        ExtractorSpec(options={"steps": STEPS}), real=normal.x, seed=0, use_cache=False
    )
