"""The README's first command, ``medaug balance --generator dcgan``, at its real settings.

Its images must look like chest X-rays to the audit: precision (the share of synthetic
images that fall inside the real images' feature manifold) far above that of noise. This
is the suite's one long test (about two minutes on two cores): nothing shorter checks the
settings a new user's first run actually uses.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from medaug.auditing import ExtractorSpec, audit_sets
from medaug.auditing.sources import load_output
from medaug.balancing import BalanceConfig, balance
from medaug.balancing.config import DEMO_BATCH_SIZE, DEMO_STEPS
from medaug.data import DataOptions

pytestmark = pytest.mark.slow


def _noise_like(images: torch.Tensor) -> dict[str, torch.Tensor]:
    """Uniform noise, and noise blurred to a chest-sized blob (v0.1.0's first grid)."""
    gen = torch.Generator().manual_seed(0)
    uniform = torch.rand(images.shape, generator=gen) * 2 - 1
    size = images.shape[-1]
    coarse = torch.rand((len(images), images.shape[1], 4, 4), generator=gen) * 2 - 1
    blob = F.interpolate(coarse, size=(size, size), mode="bilinear", align_corners=False)
    return {"uniform noise": uniform, "blurred noise": blob}


def test_the_demo_settings_finish_and_audit_far_above_noise(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    out = tmp_path / "medaug-demo"
    cfg = BalanceConfig(out=out, options=DataOptions(cache_dir=cache), progress=False)
    assert (cfg.effective_steps, cfg.effective_batch_size) == (DEMO_STEPS, DEMO_BATCH_SIZE)

    result = balance(cfg)

    state = result.summary
    assert state["counts_after"] == {"NORMAL": 200, "PNEUMONIA": 290}  # 100 real, 100 made
    audit = state["audit"]["classes"]["NORMAL"]
    report = (out / "report" / "report.md").read_text()
    assert "precision" in report and f"{DEMO_STEPS} steps" in report

    # the same extractor (restored from the run's cache) scores noise of the same shape
    grown, all_real, _, _ = load_output(out, options=DataOptions(cache_dir=cache))
    normal = next(c for c in grown if c.name == "NORMAL")
    prepared = ExtractorSpec().prepare(all_real.images, seed=0, device="cpu", cache_dir=cache)
    for name, noise in _noise_like(normal.synthetic.images).items():
        noise_precision = audit_sets(normal.real, noise, extractor=prepared).metrics.precision
        assert noise_precision < 0.2, name
        assert audit["precision"] > noise_precision + 0.5, (name, audit, noise_precision)
