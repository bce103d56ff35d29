"""A conditional generator plugin serves every class from one model and one checkpoint."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from PIL import Image

import medaug
from medaug.contracts.generator import FitCallback, Generator
from medaug.plugins import get_host

from .balance_helpers import class_files, manifest, run_json


class ClassColour(Generator):
    """Draws every image of class k in grey level k (a stand-in for a conditional GAN)."""

    conditional: ClassVar[bool] = True
    supported_sizes: ClassVar[tuple[int, ...]] = (16,)
    fitted_labels: ClassVar[list[int]] = []

    def __init__(
        self, image_size: int = 16, channels: int = 1, device: Any = "cpu", num_classes: int = 1
    ) -> None:
        self.image_size, self.channels, self.device = image_size, channels, torch.device(device)
        self.num_classes = num_classes
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
        assert labels is not None and len(labels) == len(images)
        ClassColour.fitted_labels = sorted(set(labels.tolist()))
        for epoch in range(self._done, epochs):
            if callback is not None:
                callback.on_step(epoch, 0, 1, {"loss": 0.0})
            self._done = epoch + 1
            if callback is not None:
                callback.on_epoch_end(epoch, {"loss": 0.0})

    def sample(self, n: int, *, seed: int, labels: torch.Tensor | None = None) -> torch.Tensor:
        assert labels is not None and len(labels) == n
        level = labels.float().view(-1, 1, 1, 1) / 10 * 2 - 1
        return level.expand(n, self.channels, self.image_size, self.image_size).clone()

    def state_dict(self) -> dict[str, Any]:
        return {"epochs_done": self._done}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self._done = int(state["epochs_done"])

    @property
    def epochs_done(self) -> int:
        return self._done


class Plugin:
    @medaug.hookimpl
    def register_generators(self, register: Any) -> None:
        register("class-colour", ClassColour)


def test_one_conditional_generator_serves_all_classes(image_folder, tmp_path: Path) -> None:
    get_host().register(Plugin(), name="class-colour-plugin")
    data = image_folder({"a": 3, "b": 9, "c": 5}, size=16)
    out = tmp_path / "out"
    summary = run_json(
        [
            "balance",
            str(data),
            "--out",
            str(out),
            "--generator",
            "class-colour",
            "--image-size",
            "16",
            "--epochs",
            "2",
        ]
    )
    assert summary["counts_after"] == {"a": 9, "b": 9, "c": 9}
    assert ClassColour.fitted_labels == [0, 1, 2]
    assert sorted(p.name for p in (out / "checkpoints").glob("*.pt")) == ["all-classes.pt"]
    for index, cls in enumerate(["a", "b", "c"]):
        synth = [p for p in class_files(out, cls) if p.name.startswith("synthetic_")]
        assert len(synth) == {"a": 6, "b": 0, "c": 4}[cls]
        for p in synth:
            with Image.open(p) as im:
                assert np.asarray(im).mean() == round((index / 10) * 255)
    assert len(manifest(out)) == 27
