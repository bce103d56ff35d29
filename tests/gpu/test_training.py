"""``medaug train`` and ``medaug evaluate`` on the tier's device (simple-cnn and a timm
model), mixed precision on and off, and a ``model.pt`` that moves between devices."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from medaug.training.checkpoint import load_checkpoint
from medaug.training.normalize import Normalizer
from medaug.training.predict import predict_proba
from tests.balance.balance_helpers import run_json
from tests.gpu.gpu_helpers import (
    PRECISIONS,
    SIZE,
    TINY_CNN,
    check_history,
    check_metrics,
    computes_on,
    skip_unless_precision_runs,
    train_args,
)
from tests.helpers import write_image_folder

pytestmark = pytest.mark.slow

COUNTS = {"NORMAL": 8, "PNEUMONIA": 12}
TEST_COUNTS = {"NORMAL": 4, "PNEUMONIA": 4}
#: the run folder of ``medaug train``
FILES = ("model.pt", "metrics.json", "history.json", "curves.png", "val_roc.png", "augment.json")


def _test_folder(tmp_path: Path) -> Path:
    return write_image_folder(tmp_path / "test", TEST_COUNTS, size=SIZE, seed=5)


def _train(data: Path, out: Path, device: str, classifier: str, *extra: str) -> dict[str, Any]:
    """Train on ``device``, check the run folder, return the ``--json`` report."""
    with computes_on(device):
        report = run_json(train_args(data, out, device, classifier, *extra))
    for name in FILES:
        assert (out / name).is_file(), name
    assert json.loads((out / "metrics.json").read_text()) == report
    check_history(out / "history.json")
    check_metrics(report["metrics"], sum(report["val_counts"].values()))
    return report


def _evaluate(model: Path, data: Path, out: Path, device: str) -> dict[str, Any]:
    """Evaluate on ``device``, check the files, return the ``--json`` report."""
    with computes_on(device):
        args = ["evaluate", "--model", str(model), str(data), "--out", str(out)]
        report = run_json([*args, "--device", device])
    check_metrics(report["metrics"], sum(TEST_COUNTS.values()))
    assert json.loads((out / "metrics.json").read_text())["metrics"] == report["metrics"]
    assert (out / "roc.png").is_file() and (out / "confusion.png").is_file()
    return report


@pytest.mark.parametrize(
    ("classifier", "options"),
    [("simple-cnn", TINY_CNN), ("timm:resnet18", ())],
    ids=["simple-cnn", "timm:resnet18"],
)
def test_train_and_evaluate(
    classifier: str,
    options: tuple[str, ...],
    gpu_device: str,
    image_folder: Callable[..., Path],
    tmp_path: Path,
) -> None:
    data = image_folder(COUNTS, size=SIZE)
    run = tmp_path / "run"
    report = _train(data, run, gpu_device, classifier, *options)
    assert report["classifier"] == classifier
    net, meta = load_checkpoint(run / "model.pt")
    assert not net.training
    assert meta["classes"] == ["NORMAL", "PNEUMONIA"] and meta["image_size"] == SIZE
    evaluation = _evaluate(run / "model.pt", _test_folder(tmp_path), tmp_path / "eval", gpu_device)
    assert evaluation["classifier"] == classifier


@pytest.mark.parametrize("precision", PRECISIONS)
def test_train_precision(
    precision: str, gpu_device: str, image_folder: Callable[..., Path], tmp_path: Path
) -> None:
    """``--precision fp32`` (mixed precision off) and ``bf16`` (on) both train to finite
    losses and metrics, and the run records the precision asked for."""
    skip_unless_precision_runs(precision, gpu_device)
    data = image_folder(COUNTS, size=SIZE)
    args = ("--precision", precision, *TINY_CNN)
    report = _train(data, tmp_path / "run", gpu_device, "simple-cnn", *args)
    assert report["train_config"]["precision"] == precision
    _evaluate(tmp_path / "run" / "model.pt", _test_folder(tmp_path), tmp_path / "eval", gpu_device)


@pytest.mark.parametrize("direction", ["device-to-cpu", "cpu-to-device"])
def test_a_model_moves_between_devices(
    direction: str, gpu_device: str, image_folder: Callable[..., Path], tmp_path: Path
) -> None:
    """A model trained on one device evaluates on the other with the figures it has on
    its own device."""
    trained_on, used_on = (
        (gpu_device, "cpu") if direction == "device-to-cpu" else ("cpu", gpu_device)
    )
    data = image_folder(COUNTS, size=SIZE)
    test = _test_folder(tmp_path)
    _train(data, tmp_path / "run", trained_on, "simple-cnn", *TINY_CNN)
    model = tmp_path / "run" / "model.pt"
    there = _evaluate(model, test, tmp_path / "there", used_on)
    home = _evaluate(model, test, tmp_path / "home", trained_on)
    assert there["metrics"]["threshold"] == home["metrics"]["threshold"]  # the stored one
    # the same probabilities on both devices (up to TF32 convolutions on a GPU) ...
    x = torch.rand(8, 1, SIZE, SIZE, generator=torch.Generator().manual_seed(0))
    probs = []
    for device in (torch.device(trained_on), torch.device(used_on)):
        net, meta = load_checkpoint(model, device=device)
        normalizer = Normalizer.from_dict(meta["normalization"])
        probs.append(predict_proba(net, x, normalizer, device=device))
    np.testing.assert_allclose(probs[0], probs[1], atol=1e-2)
    # ... hence the same figures, give or take an image near the threshold
    for key in ("accuracy", "roc_auc"):
        assert there["metrics"][key] == pytest.approx(home["metrics"][key], abs=0.15), key
