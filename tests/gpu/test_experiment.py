"""``medaug experiment`` on the tier's device: the three arms (baseline, gan, classic) for
one seed with a dcgan, mixed precision on and off."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.balance.balance_helpers import run_json
from tests.gpu.gpu_helpers import (
    PRECISIONS,
    SIZE,
    TINY_CNN,
    check_generator,
    check_history,
    computes_on,
    same_device,
    skip_unless_precision_runs,
)
from tests.helpers import write_image_folder

pytestmark = pytest.mark.slow

ARMS = ["baseline", "gan", "classic"]


@pytest.mark.parametrize("precision", PRECISIONS)
def test_experiment_three_arms_one_seed(precision: str, gpu_device: str, tmp_path: Path) -> None:
    skip_unless_precision_runs(precision, gpu_device)
    train = write_image_folder(tmp_path / "train", {"NORMAL": 6, "PNEUMONIA": 12}, size=SIZE)
    test = write_image_folder(tmp_path / "test", {"NORMAL": 4, "PNEUMONIA": 4}, size=SIZE, seed=2)
    out = tmp_path / "out"
    args = ["experiment", "--train", str(train), "--test", str(test), "--out", str(out)]
    args += ["--classifier", "simple-cnn", *TINY_CNN, "--generator", "dcgan", "--seeds", "1"]
    args += ["--image-size", str(SIZE), "--epochs", "1", "--batch-size", "4", "--val-split", "0.3"]
    args += ["--augment", "light", "--gen-steps", "2", "--gen-batch-size", "4", "--no-audit"]
    args += ["--gen-option", "ngf=8", "--gen-option", "ndf=8"]
    args += ["--gen-option", f"precision={precision}", "--precision", precision]
    with computes_on(gpu_device):
        results = run_json([*args, "--device", gpu_device, "--threads", "1"])

    assert same_device(results["device"], gpu_device)
    assert results["settings"]["train_config"]["precision"] == precision
    assert list(results["summary"]) == ARMS
    runs = {r["arm"]: r for r in results["runs"]}
    assert sorted(runs) == sorted(ARMS) and {r["seed"] for r in runs.values()} == {0}
    for arm, run in runs.items():
        assert run["test"]["n"] == 8, arm
        assert 0.0 <= run["test"]["accuracy"] <= 1.0, arm
        folder = out / "runs" / "seed0" / arm
        assert (folder / "model.pt").is_file(), arm
        check_history(folder / "history.json")
    # the gan and classic arms grew NORMAL to the majority's training count
    grown = runs["gan"]["train_counts"]
    assert grown["NORMAL"] == grown["PNEUMONIA"] == runs["classic"]["train_counts"]["NORMAL"]
    assert runs["gan"]["n_train"] == runs["classic"]["n_train"] > runs["baseline"]["n_train"]
    info = check_generator(out / "generators" / "seed0" / "NORMAL.pt", gpu_device)
    assert info.generator_options["precision"] == precision
    assert json.loads((out / "results.json").read_text())["summary"] == results["summary"]
    assert (out / "report.md").is_file()
