"""The experiment's gan arm with a conditional generator: one model for every class,
checkpointed every epoch, resumed mid-training after an interruption."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import medaug
from medaug.cli import build_cli
from medaug.generation.checkpoint import load_checkpoint
from medaug.plugins import get_host
from tests.helpers import LevelGenerator, write_image_folder


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
    # the default --max-synthetic-share 0.5: at most as many generated as real images
    added = {c: min(majority - n, n) for c, n in train_part.items() if n < majority}
    assert gan["added"] == added and any(n < majority - train_part[c] for c, n in added.items())
    assert gan["train_counts"] == {c: n + added.get(c, 0) for c, n in train_part.items()}
