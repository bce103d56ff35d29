"""The two training examples run end to end on a tiny balance output."""

from __future__ import annotations

import math
import runpy
from pathlib import Path

import pytest

from medaug.datasets import BalancedFolder

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TINY = ["--epochs", "2", "--image-size", "16", "--batch-size", "8", "--val-fraction", "0.3"]


@pytest.mark.parametrize("script", ["train_balanced_folder.py", "train_with_monai.py"])
def test_training_example_runs(
    balanced_out: Path, script: str, capsys: pytest.CaptureFixture[str]
) -> None:
    main = runpy.run_path(str(EXAMPLES / script))["main"]
    summary = main([str(balanced_out), *TINY, "--synthetic-fraction", "0.5"])
    out = capsys.readouterr().out
    assert "epoch 2/2" in out and "synthetic)" in out
    ds = BalancedFolder(balanced_out)
    assert summary["classes"] == ds.classes
    val = summary["val_indices"]
    # validation: real images only, from both classes, none of them trained on
    assert val and {ds.sources[i] for i in val} == {"real"}
    assert {ds.targets[i] for i in val} == set(range(len(ds.classes)))
    assert summary["train_images"] + len(val) == len(ds)
    assert len(summary["history"]) == 2
    for row in summary["history"]:
        assert math.isfinite(row["loss"]) and row["loss"] > 0
        assert 0.0 <= row["val_acc"] <= 1.0 and 0.0 <= row["val_balanced_acc"] <= 1.0
        assert 0.0 < row["synthetic_share"] < 1.0
