"""``balance`` audits its synthetic images at the end, and ``--reject-memorized``
replaces the near-copies of training images with fresh samples."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import torch
from PIL import Image

import medaug
from medaug.contracts.generator import FitCallback, Generator
from medaug.generation.sampling import CHUNK
from medaug.plugins import get_host
from tests.helpers import write_image_folder

from .balance_helpers import run_json

#: a short extractor training keeps the test fast; the figures only need consistency
FAST_AUDIT = ["--audit-option", "steps=20"]


class CopyingGenerator(Generator):
    """Memorises: every other sampled image is an exact training image, the rest noise."""

    supported_sizes = (16,)

    def __init__(
        self, image_size: int = 16, channels: int = 1, device: Any = "cpu", num_classes: int = 1
    ) -> None:
        self.image_size, self.channels, self.device = image_size, channels, torch.device(device)
        self.train = torch.zeros(1, channels, image_size, image_size)
        self._done = 0

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
        self.train, self._done = images.clone(), epochs

    def sample(self, n: int, *, seed: int, labels: torch.Tensor | None = None) -> torch.Tensor:
        g = torch.Generator().manual_seed(seed)
        noise = torch.rand(n, self.channels, self.image_size, self.image_size, generator=g) * 2 - 1
        pick = torch.randint(len(self.train), (n,), generator=g)
        copy = torch.rand(n, generator=g) < 0.5
        return torch.where(copy.view(-1, 1, 1, 1), self.train[pick], noise)

    def state_dict(self) -> dict[str, Any]:
        return {"train": self.train, "epochs_done": self._done}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.train, self._done = state["train"], int(state["epochs_done"])

    @property
    def epochs_done(self) -> int:
        return self._done


class CopyingPlugin:
    @medaug.hookimpl
    def register_generators(self, register: Any) -> None:
        register("copying", CopyingGenerator)


@pytest.fixture
def copying() -> Iterator[None]:
    name = get_host().register(CopyingPlugin(), name="copying-plugin")
    yield
    if name is not None:
        get_host().unregister(name)


@pytest.mark.slow
@pytest.mark.usefixtures("copying")
def test_balance_audits_and_rejects_memorized_copies(tmp_path: Path) -> None:
    data = write_image_folder(tmp_path / "data", {"NORMAL": 30, "PNEUMONIA": 60}, size=16, seed=5)
    args = ["balance", str(data), "--image-size", "16", "--epochs", "1", "-g", "copying"]
    plain = run_json([*args, "--out", str(tmp_path / "plain"), *FAST_AUDIT])
    audit = plain["audit"]
    figures = audit["classes"]["NORMAL"]
    assert audit["extractor"] == "domain"
    for key in ("fid", "kid", "precision", "recall", "density", "coverage", "c2st_auc"):
        assert key in figures and key in figures["baseline"]
    flagged = figures["memorization"]["flagged"]
    assert len(flagged) >= 10  # about half of the 30 images are exact copies
    report = (tmp_path / "plain" / "report" / "report.md").read_text()
    assert "Audit of the synthetic images" in report
    assert (tmp_path / "plain" / "report" / "audit" / "audit.json").is_file()

    clean = run_json([*args, "--out", str(tmp_path / "clean"), *FAST_AUDIT, "--reject-memorized"])
    assert clean["audit"]["replaced"]["NORMAL"] == len(flagged)
    assert clean["audit"]["classes"]["NORMAL"]["memorization"]["flagged"] == []
    assert clean["counts_after"] == plain["counts_after"]
    # deterministic: the same command gives the same replacements
    again = run_json([*args, "--out", str(tmp_path / "again"), *FAST_AUDIT, "--reject-memorized"])
    for name in sorted(p.name for p in (tmp_path / "clean" / "dataset" / "NORMAL").iterdir()):
        a = tmp_path / "clean" / "dataset" / "NORMAL" / name
        b = tmp_path / "again" / "dataset" / "NORMAL" / name
        with Image.open(a) as im_a, Image.open(b) as im_b:  # (metadata: checkpoint hashes)
            assert im_a.tobytes() == im_b.tobytes()
    assert again["audit"]["replaced"] == clean["audit"]["replaced"]
    assert CHUNK == 64  # replacements come from the stream after the 30 images written


def test_an_audit_that_cannot_run_is_skipped_with_a_reason(image_folder, tmp_path: Path) -> None:
    data = image_folder({"NORMAL": 6, "PNEUMONIA": 12}, size=16)
    summary = run_json(
        ["balance", str(data), "--out", str(tmp_path / "o"), "--image-size", "16", "--epochs", "1"]
    )
    assert "the audit needs at least 24 real" in summary["audit"]["skipped"]
    text = (tmp_path / "o" / "report" / "report.md").read_text()
    assert "audit skipped" in text
    state = json.loads((tmp_path / "o" / ".medaug-run.json").read_text())
    assert state["status"] == "complete"
