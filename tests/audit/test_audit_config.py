"""``medaug.audit`` and ``audit_output`` take one :class:`AuditConfig`; the keyword
arguments they took before it still work, with a DeprecationWarning."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

import medaug
from medaug.auditing import AuditConfig, AuditSettings, ExtractorSpec, audit_output
from medaug.auditing.run import _config
from medaug.data.options import DataOptions
from medaug.errors import MedaugError

from .conftest import SAMPLE


def _folder(names: list[Path], folder: Path) -> Path:
    folder.mkdir(parents=True)
    for p in names:
        shutil.copy2(p, folder / p.name)
    return folder


def _figures(report: Any) -> dict[str, Any]:
    """The report without timings and the extractor's cache hit."""
    data = report.to_json()
    data.pop("seconds")
    data["extractor_info"].pop("cached")
    for cls in data["classes"].values():
        cls.pop("seconds", None)
    return data


def test_old_keywords_map_onto_the_config_with_a_deprecation_warning() -> None:
    spec = ExtractorSpec("domain", options={"steps": 3})
    with pytest.warns(DeprecationWarning, match=r"audit\(image_size=\.\.\., extractor=\.\.\.\)"):
        config = _config("audit", None, {"image_size": 32, "extractor": spec})
    assert config == AuditConfig(image_size=32, extractor=spec)
    base = AuditConfig(channels=1, device="cpu")
    with pytest.warns(DeprecationWarning, match=r"pass config=AuditConfig\(settings=\.\.\."):
        config = _config("audit_output", base, {"settings": None, "options": None})
    assert config == AuditConfig(channels=1, device="cpu")  # None: the defaults, as before
    assert _config("audit", base, {}) is base
    with pytest.raises(TypeError, match="audit\\(\\) got an unexpected keyword argument 'k'"):
        _config("audit", None, {"k": 3})


def test_audit_with_old_keywords_equals_audit_with_a_config(tmp_path: Path) -> None:
    real = _folder(sorted((SAMPLE / "NORMAL").glob("*.png"))[:30], tmp_path / "real")
    synthetic = _folder(sorted((SAMPLE / "PNEUMONIA").glob("*.png"))[:14], tmp_path / "NORMAL")
    config = AuditConfig(
        image_size=32,
        channels=1,
        options=DataOptions(cache_dir=tmp_path / "cache"),
        extractor=ExtractorSpec(options={"steps": 10}),
        settings=AuditSettings(seed=1),
        device="cpu",
    )
    new = medaug.audit(real, synthetic, config=config)
    with pytest.warns(DeprecationWarning, match="medaug.auditing.AuditConfig"):
        old = medaug.audit(
            real,
            synthetic,
            image_size=32,
            channels=1,
            options=DataOptions(cache_dir=tmp_path / "cache"),
            extractor=ExtractorSpec(options={"steps": 10}),
            settings=AuditSettings(seed=1),
            device="cpu",
        )
    assert (new.image_size, new.channels, new.settings.seed) == (32, 1, 1)
    assert _figures(old) == _figures(new)


def test_audit_output_still_takes_the_old_keywords(tmp_path: Path) -> None:
    with (
        pytest.warns(DeprecationWarning, match=r"audit_output\(image_size=\.\.\.\)"),
        pytest.raises(MedaugError, match="is not a medaug balance output"),
    ):
        audit_output(tmp_path, image_size=32)
    with pytest.raises(TypeError, match="unexpected keyword argument 'size'"):
        audit_output(tmp_path, size=32)
