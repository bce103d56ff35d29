"""The training loop on separable tiny tensors, class weights, checkpoints."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch

from medaug.errors import MedaugError
from medaug.training import (
    ModelSpec,
    Placement,
    Recipe,
    RunData,
    TensorData,
    TrainConfig,
    evaluate_model,
    fit,
    load_checkpoint,
    load_pipeline,
    predict_proba,
)
from medaug.training.run import save_training
from medaug.training.trainer import _epoch_order, balanced_draws, parse_class_weights

CPU = torch.device("cpu")
ON_CPU = Placement(CPU)


def separable(n0: int, n1: int, *, size: int = 16, seed: int = 0) -> TensorData:
    """Class 1 images are brighter with a bright square; class 0 darker."""
    g = torch.Generator().manual_seed(seed)
    x0 = torch.rand(n0, 1, size, size, generator=g) * 0.4
    x1 = torch.rand(n1, 1, size, size, generator=g) * 0.4 + 0.3
    x1[:, :, 4:10, 4:10] = 0.95
    return TensorData(
        torch.cat([x0, x1]), torch.tensor([0] * n0 + [1] * n1), ["NORMAL", "PNEUMONIA"]
    )


def test_trained_model_beats_chance_on_separable_data() -> None:
    train, val = separable(24, 60, seed=0), separable(10, 20, seed=1)
    cfg = TrainConfig(epochs=4, batch_size=16, lr=3e-3, patience=0)
    spec = ModelSpec("simple-cnn", {"widths": "8,16,32"})
    recipe = Recipe(spec, cfg, load_pipeline("light"))
    result = fit(recipe, RunData(train, val, positive=1), placement=ON_CPU)
    assert len(result.history) == 4
    assert {"train_loss", "val_loss", "val_accuracy", "lr"} <= set(result.history[0])
    assert result.val_metrics is not None
    assert result.val_metrics["balanced_accuracy"] >= 0.9
    test = separable(10, 10, seed=2)
    metrics, proba = evaluate_model(
        result.model,
        result.normalizer,
        test,
        threshold=result.threshold,
        positive=1,
        placement=ON_CPU,
    )
    assert proba.shape == (20, 2)
    assert metrics["accuracy"] >= 0.85
    assert 0.0 < result.threshold < 1.0


def test_best_epoch_is_kept_and_early_stopping_stops() -> None:
    train, val = separable(8, 8), separable(4, 4, seed=1)
    cfg = TrainConfig(epochs=6, batch_size=8, lr=0.0, patience=2, monitor="accuracy")
    result = fit(
        Recipe(ModelSpec("simple-cnn", {"widths": "4"}), cfg),
        RunData(train, val, positive=1),
        placement=ON_CPU,
    )
    # lr 0: nothing improves after epoch 1 -> stop after 1 + patience epochs
    assert result.best_epoch == 1
    assert result.stopped_early and len(result.history) == 3


def test_class_weights() -> None:
    counts = {"NORMAL": 25, "PNEUMONIA": 75}
    assert parse_class_weights("balanced", counts) == pytest.approx([2.0, 2 / 3])
    assert parse_class_weights("none", counts) is None
    assert parse_class_weights("NORMAL=3", counts) == [3.0, 1.0]
    assert parse_class_weights("sampler", counts) is None  # the batches are balanced instead
    with pytest.raises(MedaugError):
        parse_class_weights("VIRUS=2", counts)


def test_balanced_sampler_draws_every_class_equally_often() -> None:
    y = torch.tensor([0] * 10 + [1] * 390)  # 39:1
    draws = balanced_draws(y)
    assert float(draws[:10].sum()) == pytest.approx(0.5)
    order = _epoch_order(len(y), draws, torch.Generator().manual_seed(0))
    assert len(order) == len(y)
    minority = float((y[order] == 0).double().mean())
    assert 0.4 < minority < 0.6  # a permutation would give 0.025
    assert sorted(_epoch_order(5, None, torch.Generator()).tolist()) == [0, 1, 2, 3, 4]


def test_sampler_trains_without_loss_weights_and_learns_the_rare_class() -> None:
    train, val = separable(4, 60, seed=0), separable(10, 10, seed=1)
    cfg = TrainConfig(epochs=4, batch_size=16, lr=3e-3, patience=0, class_weights="sampler")
    result = fit(
        Recipe(ModelSpec("simple-cnn", {"widths": "8,16"}), cfg),
        RunData(train, val, positive=1),
        placement=ON_CPU,
    )
    assert result.class_weights == []
    assert result.val_metrics is not None
    assert result.val_metrics["balanced_accuracy"] >= 0.9


def test_checkpoint_round_trip_rebuilds_through_registry(tmp_path: Path) -> None:
    train = separable(6, 6)
    spec = ModelSpec("simple-cnn", {"widths": [4, 8]})
    data, recipe = RunData(train, positive=1), Recipe(spec, TrainConfig(epochs=1, batch_size=4))
    result = fit(recipe, data, placement=ON_CPU)
    augmented = replace(recipe, pipeline=load_pipeline("light"))
    paths = save_training(tmp_path, result, augmented, data)
    assert {"model", "history", "curves", "augment"} <= set(paths)
    payload = torch.load(paths["model"], weights_only=True)
    assert payload["classifier"] == "simple-cnn" and payload["classes"] == train.classes
    model, meta = load_checkpoint(paths["model"])
    assert meta["threshold"] == result.threshold and meta["positive_class"] == "PNEUMONIA"
    a = predict_proba(result.model, train.x, result.normalizer, device=CPU)
    b = predict_proba(model, train.x, result.normalizer, device=CPU)
    assert a == pytest.approx(b, abs=1e-6)


def test_load_checkpoint_rejects_other_files(tmp_path: Path) -> None:
    bogus = tmp_path / "model.pt"
    torch.save({"hello": 1}, bogus)
    with pytest.raises(MedaugError, match="not a medaug classifier"):
        load_checkpoint(bogus)
    with pytest.raises(MedaugError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.pt")


def test_synthetic_weight_reweights_only_the_images_that_are_not_real() -> None:
    train, val = separable(12, 24, seed=0), separable(4, 4, seed=1)
    marked = TensorData(train.x, train.y, train.classes, ["real", "synthetic"] * 18)
    spec = ModelSpec("simple-cnn", {"widths": "4,8"})

    def weights(data: TensorData, w: float) -> list[torch.Tensor]:
        cfg = TrainConfig(epochs=2, batch_size=8, patience=0, synthetic_weight=w)
        result = fit(Recipe(spec, cfg), RunData(data, val, positive=1), placement=ON_CPU)
        return [p.detach().clone() for p in result.model.parameters()]

    plain = weights(train, 1.0)
    assert all(torch.equal(a, b) for a, b in zip(plain, weights(marked, 1.0), strict=True))
    assert all(torch.equal(a, b) for a, b in zip(plain, weights(train, 0.2), strict=True))
    down = weights(marked, 0.2)
    assert not all(torch.equal(a, b) for a, b in zip(plain, down, strict=True))
    with pytest.raises(MedaugError, match="synthetic_weight"):
        TrainConfig(synthetic_weight=0.0)
