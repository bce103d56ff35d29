"""``--max-synthetic-share`` in the experiment: every resampling arm adds at most the
capped share to each class, so the arms stay comparable."""

from __future__ import annotations

import torch

from medaug.experiments.resample import AugmentedOversampler
from medaug.training.augment import load_pipeline
from medaug.training.data import TensorData


def _train(counts: dict[str, int]) -> TensorData:
    y = torch.cat([torch.full((n,), i) for i, n in enumerate(counts.values())])
    return TensorData(torch.rand(len(y), 1, 16, 16), y, list(counts))


def test_the_share_cap_limits_what_an_arm_adds() -> None:
    train = _train({"A": 4, "B": 16})
    free = AugmentedOversampler(load_pipeline("standard"), seed=0)
    assert free.extra_counts(train) == {"A": 12, "B": 0}
    capped = AugmentedOversampler(load_pipeline("standard"), seed=0, max_share=0.25)
    assert capped.extra_counts(train) == {"A": 1, "B": 0}  # 1 of 5: share <= 0.25
    resampled = capped.fit_resample(train)
    assert resampled.counts() == {"A": 5, "B": 16}
