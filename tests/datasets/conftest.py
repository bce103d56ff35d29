"""One tiny real balance output per session (16 px, 1 epoch), shared read-only by the
dataset tests: 4 NORMAL and 10 PNEUMONIA images of the bundled sample, so 6 synthetic
NORMAL images are added."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from medaug.balancing import BalanceConfig, balance, sample_data_path
from medaug.data import DataOptions

COUNTS = {"NORMAL": 4, "PNEUMONIA": 10}
ADDED = 6


@pytest.fixture(scope="session")
def balanced_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished balance output (do not modify it: copy it first)."""
    base = tmp_path_factory.mktemp("balanced")
    data = base / "data"
    for cls, n in COUNTS.items():
        (data / cls).mkdir(parents=True)
        for src in sorted((sample_data_path() / cls).glob("*.png"))[:n]:
            shutil.copy2(src, data / cls / src.name)
    out = base / "out"
    balance(
        BalanceConfig(
            out=out,
            data=data,
            image_size=16,
            epochs=1,
            batch_size=8,
            device="cpu",
            progress=False,
            audit=False,
            max_synthetic_share=None,  # filled up to the majority
            options=DataOptions(cache_dir=base / "cache"),
        )
    )
    return out
