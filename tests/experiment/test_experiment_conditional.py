"""The experiment's gan arm with a conditional generator: one model for every class,
checkpointed every epoch, resumed mid-training after an interruption."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import pytest
import torch
from click.testing import CliRunner

import medaug
from medaug.balancing.checkpoint import load_checkpoint
from medaug.cli import build_cli
from medaug.contracts.generator import FitCallback, Generator
from medaug.plugins import get_host
from tests.helpers import write_image_folder


class LevelGenerator(Generator):
    """Conditional test double: class k is drawn in grey level k; one epoch per call of
    the callback, and it can be told to fail after a given epoch (an interruption)."""

    conditional: ClassVar[bool] = True
    supported_sizes: ClassVar[tuple[int, ...]] = (16,)
    fail_after: ClassVar[int | None] = None
    calls: ClassVar[list[tuple[int, list[int]]]] = []  # (first epoch, labels seen)

    def __init__(
        self, image_size: int = 16, channels: int = 1, device: Any = "cpu", num_classes: int = 1
    ) -> None:
        self.image_size, self.channels = image_size, channels
        self.device, self.num_classes, self._done = torch.device(device), num_classes, 0

    def fit(
        self,
        images: torch.Tensor,
        *,
        epochs: int,
        batch_size: int,
        seed: int,
        labels: torch.Tensor | None = None,
        callback: FitCallback | None = None,
    ) -> None:
        assert labels is not None and len(labels) == len(images)
        LevelGenerator.calls.append((self._done, sorted(set(labels.tolist()))))
        for epoch in range(self._done, epochs):
            if callback is not None:
                callback.on_step(epoch, 0, 1, {"loss": float(epoch)})
            self._done = epoch + 1
            if callback is not None:
                callback.on_epoch_end(epoch, {"loss": float(epoch)})
            if LevelGenerator.fail_after is not None and self._done >= LevelGenerator.fail_after:
                raise RuntimeError("interrupted")

    def sample(self, n: int, *, seed: int, labels: torch.Tensor | None = None) -> torch.Tensor:
        assert labels is not None and len(labels) == n
        level = labels.float().view(-1, 1, 1, 1) / max(1, self.num_classes - 1) * 2 - 1
        return level.expand(n, self.channels, self.image_size, self.image_size).clone()

    def state_dict(self) -> dict[str, Any]:
        return {"epochs_done": self._done}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self._done = int(state["epochs_done"])

    @property
    def epochs_done(self) -> int:
        return self._done


class LevelPlugin:
    @medaug.hookimpl
    def register_generators(self, register: Any) -> None:
        register("level-gen", LevelGenerator)


@pytest.fixture
def level_generator() -> Iterator[None]:
    name = get_host().register(LevelPlugin(), name="level-gen-plugin")
    LevelGenerator.calls, LevelGenerator.fail_after = [], None
    yield
    if name is not None:
        get_host().unregister(name)


def _run(train: Path, test: Path, out: Path) -> Any:
    args = [
        "experiment",
        *("--train", str(train), "--test", str(test), "--out", str(out)),
        *("--classifier", "simple-cnn", "--classifier-option", "widths=[8,16]"),
        *("--image-size", "16", "--epochs", "1", "--batch-size", "8", "--augment", "none"),
        *("--generator", "level-gen", "--gen-epochs", "3", "--arms", "baseline,gan"),
        *("--seeds", "1", "--json"),
    ]
    return CliRunner().invoke(build_cli(), args)


@pytest.mark.usefixtures("level_generator")
def test_conditional_generator_serves_every_class_and_resumes_mid_training(
    tmp_path: Path,
) -> None:
    counts = {"a": 6, "b": 9, "c": 20}
    train = write_image_folder(tmp_path / "train", counts, size=16, seed=1)
    test = write_image_folder(tmp_path / "test", {"a": 3, "b": 3, "c": 3}, size=16, seed=2)
    out = tmp_path / "out"

    LevelGenerator.fail_after = 1  # killed after the first epoch
    first = _run(train, test, out)
    assert first.exit_code == 1 and "interrupted" in first.stderr
    ckpt = out / "generators" / "seed0" / "all-classes.pt"
    info, _ = load_checkpoint(ckpt)
    assert (info.epochs_done, info.complete) == (1, False)
    assert info.class_names == ["a", "b", "c"]

    LevelGenerator.fail_after = None
    second = _run(train, test, out)
    assert second.exit_code == 0, second.output
    # one model for all classes, trained on all of them, resumed from epoch 1
    assert LevelGenerator.calls == [(0, [0, 1, 2]), (1, [0, 1, 2])]
    assert sorted(p.name for p in ckpt.parent.glob("*.pt")) == ["all-classes.pt"]
    info, _ = load_checkpoint(ckpt)
    assert (info.epochs_done, info.complete) == (3, True)
    results = json.loads(second.stdout)
    gan = next(r for r in results["runs"] if r["arm"] == "gan")
    train_part = next(r for r in results["runs"] if r["arm"] == "baseline")["train_counts"]
    majority = max(train_part.values())
    assert gan["added"] == {c: majority - n for c, n in train_part.items() if n < majority}
    assert gan["train_counts"] == dict.fromkeys(counts, majority)
