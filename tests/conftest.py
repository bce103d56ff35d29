"""Shared fixtures: tiny generated datasets, the real shared samples, plugin isolation."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import medaug.plugins

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATASETS = Path(
    os.environ.get("MEDAUG_SHARED_DATASETS", REPO_ROOT.parent / "shared" / "datasets")
)

torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _isolated_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Every test gets its own empty decode cache (``MEDAUG_CACHE_DIR``), never the user's."""
    cache = tmp_path_factory.mktemp("medaug-cache")
    monkeypatch.setenv("MEDAUG_CACHE_DIR", str(cache))
    return cache


@pytest.fixture(autouse=True)
def _fresh_plugin_host() -> Iterator[None]:
    """Every test starts from a freshly loaded plugin host and leaves none behind."""
    medaug.plugins.reset_host()
    yield
    medaug.plugins.reset_host()


def _shared(sub: str) -> Path:
    path = SHARED_DATASETS / sub
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"shared dataset {path} is missing on a CI machine")
        pytest.skip(f"shared dataset {path} is not present on this machine")
    return path


@pytest.fixture
def chestxray_train() -> Path:
    """The real ChestXray2017 train split (read-only)."""
    return _shared("chestxray2017/train")


@pytest.fixture
def rsna_dicom_sample() -> Path:
    """The 16-file RSNA DICOM sample (read-only): ``images/`` and ``labels.csv``."""
    return _shared("rsna-pneumonia-dicom-sample")


def tree_hash(root: Path) -> str:
    """A digest of every path, size and content under ``root`` (to prove nothing changed)."""
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        h.update(str(path.relative_to(root)).encode())
        if path.is_file():
            h.update(path.read_bytes())
    return h.hexdigest()


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


@pytest.fixture
def image_folder(tmp_path: Path) -> Callable[..., Path]:
    """Factory: ``image_folder({"NORMAL": 8, "PNEUMONIA": 20}, size=24)`` -> dataset root."""

    def make(counts: dict[str, int], **kwargs: object) -> Path:
        return write_image_folder(tmp_path / "data", counts, **kwargs)  # type: ignore[arg-type]

    return make
