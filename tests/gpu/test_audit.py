"""``medaug audit`` on the tier's device with each built-in feature extractor: ``domain``
(trained on the real images), ``timm:<model>`` and ``torchvision:<model>`` (random
weights written to a local file: nothing is downloaded)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from medaug.testing import tree_hash
from tests.balance.balance_helpers import run_json
from tests.gpu.gpu_helpers import SIZE, computes_on
from tests.helpers import write_image_folder

pytestmark = pytest.mark.slow

EXTRACTORS = ["domain", "timm:resnet18", "torchvision:resnet18"]
FIGURES = ("fid", "kid", "precision", "recall", "density", "coverage", "c2st_auc")


def _extractor_args(name: str, folder: Path) -> list[str]:
    """``--weights FILE`` of randomly initialised weights for a backbone (the domain
    extractor trains its own, briefly)."""
    family, _, model = name.partition(":")
    if family == "domain":
        return ["-X", "steps=5"]
    torch.manual_seed(0)
    if family == "timm":
        import timm

        net = timm.create_model(model, pretrained=False)
    else:
        import torchvision

        net = torchvision.models.get_model(model, weights=None)
    path = folder / f"{family}-{model}.pth"
    torch.save(net.state_dict(), path)
    return ["--weights", str(path)]


@pytest.mark.parametrize("extractor", EXTRACTORS)
def test_audit_with_each_extractor(extractor: str, gpu_device: str, tmp_path: Path) -> None:
    # the audit needs at least 24 real and 12 synthetic images
    real = write_image_folder(tmp_path / "real", {"NORMAL": 24}, size=SIZE, seed=1) / "NORMAL"
    fake = write_image_folder(tmp_path / "fake", {"NORMAL": 12}, size=SIZE, seed=2) / "NORMAL"
    before = (tree_hash(real), tree_hash(fake))
    out = tmp_path / "audit"
    args = ["audit", "--real", str(real), "--synthetic", str(fake), "--image-size", str(SIZE)]
    args += ["--extractor", extractor, *_extractor_args(extractor, tmp_path)]
    with computes_on(gpu_device):
        report = run_json([*args, "--device", gpu_device, "--out", str(out)])
    assert report["extractor"] == extractor
    figures = report["classes"]["NORMAL"]
    assert (figures["n_real"], figures["n_synthetic"]) == (24, 12)
    for key in FIGURES:
        assert math.isfinite(figures[key]), (key, figures[key])
        assert math.isfinite(figures["baseline"][key]), ("baseline", key)
    assert "verdict" in figures
    saved = json.loads((out / "audit.json").read_text())
    assert saved["classes"]["NORMAL"]["fid"] == figures["fid"]
    assert (out / "audit.md").is_file() and (out / "closest_pairs_NORMAL.png").is_file()
    # a trained extractor is kept next to the figures; a backbone is its weights file
    assert (out / "extractor.pt").is_file() == (extractor == "domain")
    if extractor != "domain":
        assert report["extractor_info"]["weights_sha256"] == report["extractor_sha256"]
    assert (tree_hash(real), tree_hash(fake)) == before  # inputs untouched
