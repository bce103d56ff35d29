"""Shared fixtures: tiny generated datasets, the real shared samples, plugin isolation.

Helpers that tests import live in :mod:`tests.helpers`, never here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import torch

import medaug.plugins
from tests.helpers import write_image_folder

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
def _one_torch_thread() -> Iterator[None]:
    """Commands set torch's thread count (--threads); every test starts from one thread."""
    yield
    torch.set_num_threads(1)


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


@pytest.fixture
def image_folder(tmp_path: Path) -> Callable[..., Path]:
    """Factory: ``image_folder({"NORMAL": 8, "PNEUMONIA": 20}, size=24)`` -> dataset root."""

    def make(counts: dict[str, int], **kwargs: object) -> Path:
        return write_image_folder(tmp_path / "data", counts, **kwargs)  # type: ignore[arg-type]

    return make
