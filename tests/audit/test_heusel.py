"""The extractor validated the way FID was (Heusel et al. 2017): FID must rise
monotonically as real images are disturbed more (blur, noise, occlusion)."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
import torch

from medaug.auditing import ExtractorSpec, PreparedExtractor, prepare_extractor
from medaug.auditing.distances import frechet_distance

from .audit_helpers import blur, noise, occlude
from .conftest import STEPS, Images

DISTURBANCES: dict[str, tuple[Callable[[torch.Tensor, float], torch.Tensor], tuple[float, ...]]] = {
    "gaussian blur (sigma px)": (blur, (0.0, 1.0, 2.0, 3.0)),
    "gaussian noise (sigma)": (noise, (0.0, 0.1, 0.2, 0.4)),
    "occlusion (square side / image side)": (occlude, (0.0, 0.25, 0.35, 0.5)),
}


@pytest.fixture(scope="module")
def halves(sample: dict[str, Images]) -> tuple[torch.Tensor, torch.Tensor]:
    """All 390 sample X-rays split in two random halves: reference and disturbed."""
    x = torch.cat([s.x for s in sample.values()])
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))
    return x[order[: len(x) // 2]], x[order[len(x) // 2 :]]


@pytest.fixture(scope="module")
def extractor(halves: tuple[torch.Tensor, torch.Tensor]) -> PreparedExtractor:
    """The domain extractor trained on the reference half, as an audit would."""
    return prepare_extractor(
        ExtractorSpec(options={"steps": STEPS}), real=halves[0], seed=0, use_cache=False
    )


@pytest.mark.parametrize("kind", sorted(DISTURBANCES))
def test_fid_rises_monotonically_with_disturbance(
    kind: str, halves: tuple[torch.Tensor, torch.Tensor], extractor: PreparedExtractor
) -> None:
    reference, other = halves
    f_ref = extractor.features(reference)
    disturb, levels = DISTURBANCES[kind]
    fids = [frechet_distance(f_ref, extractor.features(disturb(other, level))) for level in levels]
    assert all(a < b for a, b in itertools.pairwise(fids)), f"{kind}: {fids}"
    assert fids[-1] > 3 * fids[0], f"{kind}: {fids}"
