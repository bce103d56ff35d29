"""Training length by optimisation steps: small classes get as many steps as large ones,
checkpoints every K steps, and the run still resumes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from medaug.balancing import BalanceConfig
from medaug.errors import MedaugError
from medaug.generation.checkpoint import load_checkpoint
from medaug.generation.fitting import GeneratorSpec, steps_per_epoch

from .balance_helpers import run, run_json


def test_steps_become_epochs_per_class_size() -> None:
    import torch

    spec = GeneratorSpec("x", {}, 16, 1, epochs=5, batch_size=8, seed=0, device=torch.device("cpu"))
    assert spec.epochs_for(100) == 5  # by epochs: the class size does not matter
    stepped = GeneratorSpec(
        "x", {}, 16, 1, 5, 8, 0, torch.device("cpu"), steps=120, checkpoint_every=24
    )
    assert steps_per_epoch(100, 8) == 12 and stepped.epochs_for(100) == 10
    assert steps_per_epoch(10, 8) == 1 and stepped.epochs_for(10) == 120
    assert steps_per_epoch(3, 8) == 1  # fewer images than a batch: one step
    assert stepped.save_every_for(100) == 2 and stepped.save_every_for(10) == 24


def test_balance_by_steps_checkpoints_periodically_and_resumes(
    image_folder, tmp_path: Path
) -> None:
    data = image_folder({"NORMAL": 8, "PNEUMONIA": 20}, size=16)
    out = tmp_path / "out"
    args = ["balance", str(data), "--out", str(out), "--image-size", "16", "--batch-size", "4"]
    args += ["--no-audit"]
    args += ["--steps", "6", "--checkpoint-every", "4"]
    summary = run_json(args)
    # NORMAL: 8 images, batch 4 -> 2 steps per epoch -> 3 epochs; grids every 2 epochs + last
    assert summary["generator_epochs"] == {"NORMAL": 3}
    info, _ = load_checkpoint(out / "checkpoints" / "NORMAL.pt")
    assert (info.epochs, info.epochs_done, info.complete) == (3, 3, True)
    assert len(info.history["loss_g"]) == 6  # every step reported once
    grids = sorted(p.name for p in (out / "report" / "progress" / "NORMAL").iterdir())
    assert grids == ["epoch_0002.png", "epoch_0003.png"]
    settings = json.loads((out / ".medaug-run.json").read_text())["settings"]
    assert (settings["steps"], settings["checkpoint_every"]) == (6, 4)
    assert "| NORMAL | 3 |" in (out / "report" / "report.md").read_text()
    # the same command recognises its finished run; other steps are other settings
    assert run_json(args)["status"] == "already_complete"
    other = run([*args[:-4], "--steps", "8"], ok=False)
    assert other.exit_code == 1 and "other settings" in other.output


def test_steps_options_are_checked(tmp_path: Path) -> None:
    with pytest.raises(MedaugError, match="not both"):
        BalanceConfig(out=tmp_path, epochs=3, steps=10)
    with pytest.raises(MedaugError, match=r"^checkpoint_every goes with steps"):
        BalanceConfig(out=tmp_path, epochs=3, checkpoint_every=10)
    with pytest.raises(MedaugError, match="at least 1"):
        BalanceConfig(out=tmp_path, steps=0)


def test_the_default_length_is_shortened_for_small_classes_only(tmp_path: Path) -> None:
    import torch

    from medaug.generation.fitting import DataShape
    from medaug.generation.settings import STEPS_PER_IMAGE, steps_for_size

    assert steps_for_size(1500, 80) == 80 * STEPS_PER_IMAGE == 640
    assert steps_for_size(1500, 1349) == 1500 and steps_for_size(1500, 5) == 200
    default = BalanceConfig(out=tmp_path, data=tmp_path / "data")
    given = BalanceConfig(out=tmp_path, data=tmp_path / "data", steps=1500)
    assert default.steps_by_size and not given.steps_by_size
    cpu = torch.device("cpu")
    shape = DataShape(16, 1)
    short = GeneratorSpec.of(default.generation(), shape, cpu)
    full = GeneratorSpec.of(given.generation(), shape, cpu)
    # 80 images at batch 64: one step per epoch
    assert (short.epochs_for(80), full.epochs_for(80)) == (640, 1500)
    assert short.epochs_for(1349) == full.epochs_for(1349)  # a large class: the same


def test_the_default_length_is_in_steps_so_small_classes_train_as_long(tmp_path: Path) -> None:
    from medaug.balancing.config import DEFAULT_CHECKPOINT_EVERY, DEFAULT_STEPS, DEMO_STEPS

    user = BalanceConfig(out=tmp_path, data=tmp_path / "data")
    assert (user.effective_steps, user.effective_checkpoint_every) == (
        DEFAULT_STEPS,
        DEFAULT_CHECKPOINT_EVERY,
    )
    assert BalanceConfig(out=tmp_path).effective_steps == DEMO_STEPS  # the bundled demo
    assert BalanceConfig(out=tmp_path, checkpoint_every=7).effective_checkpoint_every == 7
    by_epochs = BalanceConfig(out=tmp_path, data=tmp_path / "data", epochs=3)
    assert (by_epochs.effective_steps, by_epochs.effective_epochs) == (None, 3)
    assert by_epochs.effective_checkpoint_every is None  # every epoch
