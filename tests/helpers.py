"""Helpers the tests import (fixtures stay in conftest.py): tiny datasets on disk."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from PIL import Image

from medaug.contracts.generator import FitCallback, Generator
from medaug.testing import DicomSpec, tree_hash, write_dicom

__all__ = [
    "DicomSpec",
    "fake_distribution",
    "gradient",
    "tree_hash",
    "write_dicom",
    "write_image_folder",
    "write_labelled_dicoms",
]


def fake_distribution(root: Path, dist: str, module: str, source: str, entry_name: str) -> None:
    """Write an installed-looking distribution (dist-info + module) under ``root`` whose
    ``medaug`` entry point ``entry_name`` loads ``module`` (``source``, dedented)."""
    (root / f"{module}.py").write_text(textwrap.dedent(source))
    info = root / f"{dist.replace('-', '_')}-1.2.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.2.3\n")
    (info / "entry_points.txt").write_text(f"[medaug]\n{entry_name} = {module}\n")


def write_image_folder(
    root: Path,
    counts: dict[str, int],
    *,
    size: int = 24,
    mode: str = "L",
    ext: str = "png",
    seed: int = 0,
) -> Path:
    """Write ``counts[class]`` small random-but-structured images per class folder.

    Each class gets a different mean brightness so classifiers have something to learn.
    """
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    for ci, (cls, n) in enumerate(sorted(counts.items())):
        folder = root / cls
        folder.mkdir(parents=True, exist_ok=True)
        base = 60 + 120 * (ci % 2)
        for i in range(n):
            arr = np.clip(rng.normal(base, 30, size=(size, size)), 0, 255).astype(np.uint8)
            img = Image.fromarray(arr, mode="L").convert(mode)
            img.save(folder / f"patient{i // 2}_img{i}.{ext}")
    return root


def gradient(size: int = 32, top: int = 4095, dtype: type = np.uint16) -> np.ndarray:
    """A left-to-right ramp from 0 to ``top``."""
    row = np.linspace(0, top, size).round().astype(dtype)
    return np.tile(row, (size, 1))


def write_labelled_dicoms(
    images: Path, labels_csv: Path, counts: dict[str, int], *, size: int = 16, seed: int = 0
) -> Path:
    """Write ``counts[class]`` flat DICOM files into ``images`` (one patient each, a
    brightness per class) and append ``patientId,class`` rows to ``labels_csv`` (RSNA
    shape; class names may hold '/'). Returns ``images``."""
    rng = np.random.default_rng(seed)
    new = not labels_csv.is_file()
    rows = ["patientId,class"] if new else []
    for ci, (cls, n) in enumerate(sorted(counts.items())):
        for i in range(n):
            pid = f"{images.name}-{ci}-{i}-{seed}"
            pixels = np.clip(rng.normal(60 + 120 * (ci % 2), 30, (size, size)), 0, 255)
            write_dicom(images / f"{pid}.dcm", pixels.astype(np.uint8), patient_id=pid)
            rows.append(f"{pid},{cls}")
    with labels_csv.open("a", encoding="utf-8") as fh:
        fh.write("\n".join(rows) + "\n")
    return images


class LevelGenerator(Generator):
    """A conditional test double: class k is drawn in grey level k / 10 (so the pixel
    value says which class an image was sampled for). Each epoch is reported through the
    callback; ``fail_after`` makes ``fit`` raise after that many epochs (an interruption)
    and ``calls`` records each ``fit`` call as (first epoch, labels seen)."""

    conditional: ClassVar[bool] = True
    supported_sizes: ClassVar[tuple[int, ...]] = (16,)
    fail_after: ClassVar[int | None] = None
    calls: ClassVar[list[tuple[int, list[int]]]] = []

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
        level = labels.float().view(-1, 1, 1, 1) / 10 * 2 - 1
        return level.expand(n, self.channels, self.image_size, self.image_size).clone()

    def state_dict(self) -> dict[str, Any]:
        return {"epochs_done": self._done}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self._done = int(state["epochs_done"])

    @property
    def epochs_done(self) -> int:
        return self._done
