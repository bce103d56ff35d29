"""Augmentation presets, pipeline files (JSON/YAML) and the batch augmenter."""

from __future__ import annotations

from pathlib import Path

import albumentations as A
import pytest
import torch

from medaug.errors import MedaugError
from medaug.training.augment import (
    PRESETS,
    Augmenter,
    load_pipeline,
    pipeline_to_dict,
    save_pipeline,
)


@pytest.mark.parametrize("name", sorted(PRESETS))
@pytest.mark.parametrize("channels", [1, 3])
def test_presets_keep_shape_and_range(name: str, channels: int) -> None:
    x = torch.rand(5, channels, 24, 24)
    out = Augmenter(load_pipeline(name), seed=0)(x)
    assert out.shape == x.shape and out.dtype == torch.float32
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0
    if name == "none":
        assert torch.equal(out, x)


def test_strong_preset_changes_images_and_is_seeded() -> None:
    x = torch.rand(8, 1, 24, 24)
    a = Augmenter(load_pipeline("strong"), seed=3)(x)
    b = Augmenter(load_pipeline("strong"), seed=3)(x)
    assert not torch.equal(a, x)
    assert torch.equal(a, b)


def test_pipeline_file_round_trip_json_and_yaml(tmp_path: Path) -> None:
    pipe = load_pipeline("standard")
    path = save_pipeline(pipe, tmp_path / "augment.json")
    assert pipeline_to_dict(load_pipeline(path)) == pipeline_to_dict(pipe)
    yaml_path = tmp_path / "aug.yaml"
    A.save(A.Compose([A.HorizontalFlip(p=1.0)]), str(yaml_path), data_format="yaml")
    flipped = Augmenter(load_pipeline(yaml_path))(torch.arange(4.0).view(1, 1, 2, 2) / 3)
    assert flipped[0, 0, 0].tolist() == pytest.approx([1 / 3, 0.0])


def test_bad_pipeline_spec_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(MedaugError, match="neither a preset"):
        load_pipeline("nonexistent-preset")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(MedaugError, match="cannot read augmentation pipeline"):
        load_pipeline(bad)
