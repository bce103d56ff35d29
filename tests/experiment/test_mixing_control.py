"""``--max-synthetic-share`` in the experiment: a resampler adds at most the capped share
to each class; the experiment caps the gan arms (0.5 by default) and fills the classic
arm up as the strategy asks, each arm as the rare-class benchmark found it best."""

from __future__ import annotations

import pytest
import torch

from medaug.experiments import ExperimentConfig
from medaug.experiments.resample import RESAMPLERS, ArmContext, AugmentedOversampler
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


@pytest.mark.parametrize("share", [0.5, 0.25, None])
def test_the_experiment_caps_the_generated_images_not_the_classic_copies(
    share: float | None, tmp_path
) -> None:
    cfg = ExperimentConfig(
        train=tmp_path, test=tmp_path, out=tmp_path / "o", classifier="simple-cnn",
        generator="dcgan", arms=("classic", "gan"), max_synthetic_share=share,
    )  # fmt: skip
    ctx = ArmContext(cfg, 0, torch.device("cpu"), tmp_path / "o", lambda _m: None)
    train = _train({"A": 4, "B": 16})
    assert RESAMPLERS["classic"](ctx).extra_counts(train) == {"A": 12, "B": 0}
    capped = {0.5: 4, 0.25: 1, None: 12}[share]
    for arm in ("gan", "gan-manifold"):
        assert RESAMPLERS[arm](ctx).extra_counts(train) == {"A": capped, "B": 0}
    plain = ExperimentConfig(
        train=tmp_path, test=tmp_path, out=tmp_path, classifier="simple-cnn", arms=("baseline",)
    )
    assert plain.max_synthetic_share == 0.5
