"""Training batches off the critical path: worker processes, per-batch seeds, precision."""

from __future__ import annotations

import pytest
import torch

from medaug.errors import MedaugError
from medaug.training import ModelSpec, Placement, Recipe, RunData, TrainConfig, fit, load_pipeline
from medaug.training.augment import Augmenter
from medaug.training.batches import BatchFeed, auto_workers, batch_seed
from tests.training.test_trainer import separable

CPU = torch.device("cpu")


def _epoch(feed: BatchFeed, epoch: int) -> list[torch.Tensor]:
    plan = [torch.arange(i, i + 4) for i in range(0, 16, 4)]
    return [xb for xb, _ in feed.epoch(plan, epoch)]


def test_augmented_batches_do_not_depend_on_the_number_of_workers() -> None:
    data = separable(8, 8)
    feeds = [
        BatchFeed(
            data.x,
            data.y,
            device=CPU,
            augmenter=Augmenter(load_pipeline("strong"), seed=3),
            workers=workers,
        )
        for workers in (0, 2)
    ]
    for epoch in (0, 1):
        inline, workers = (_epoch(feed, epoch) for feed in feeds)
        assert all(torch.equal(a, b) for a, b in zip(inline, workers, strict=True))
        assert not torch.equal(inline[0], data.x[:4])  # really augmented
    assert not torch.equal(_epoch(feeds[0], 0)[1], _epoch(feeds[0], 1)[1])  # per epoch
    for feed in feeds:
        feed.close()


def test_without_augmentation_the_batches_are_the_images_themselves() -> None:
    data = separable(8, 8)
    feed = BatchFeed(data.x, data.y, device=CPU, augmenter=None, workers=2)
    assert [torch.equal(b, data.x[i * 4 : i * 4 + 4]) for i, b in enumerate(_epoch(feed, 0))] == [
        True
    ] * 4


def test_batch_seeds_are_distinct_and_auto_workers_keep_the_cpu_for_training() -> None:
    seeds = {batch_seed(0, e, s) for e in range(20) for s in range(200)}
    assert len(seeds) == 20 * 200
    assert auto_workers(CPU) == 0


def _train(**config: object) -> list[dict[str, float]]:
    cfg = TrainConfig(epochs=2, batch_size=8, lr=3e-3, patience=0, **config)  # type: ignore[arg-type]
    spec = ModelSpec("simple-cnn", {"widths": "4,8"})
    result = fit(
        Recipe(spec, cfg, load_pipeline("light")),
        RunData(separable(12, 12), separable(4, 4, seed=1), positive=1),
        placement=Placement(CPU),
    )
    return result.history


def test_training_is_the_same_with_and_without_augmentation_workers() -> None:
    assert _train(aug_workers=0, precision="fp32") == _train(aug_workers=2, precision="fp32")


def test_bf16_training_on_the_cpu_runs_and_records_finite_losses() -> None:
    history = _train(precision="bf16")
    assert all(torch.isfinite(torch.tensor(row["train_loss"])) for row in history)
    assert _train(precision="bf16") == history  # run to run on one machine


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("precision", "half", "precision must be one of"),
        ("aug_workers", -2, "^aug_workers must"),
    ],
)
def test_bad_runtime_settings_fail_when_the_config_is_built(
    field: str, value: object, match: str
) -> None:
    with pytest.raises(MedaugError, match=match):
        TrainConfig(**{field: value})  # type: ignore[arg-type]
    assert TrainConfig(precision="BF16").precision == "bf16"
