"""What the first-party classifiers add to the contract: simple-cnn sizes and options,
timm's unknown-model message and its never-download rule."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import torch

import medaug
from medaug.errors import MedaugError


def test_simple_cnn_any_size_and_options() -> None:
    for size in (16, 24, 48):
        model = medaug.create_classifier("simple-cnn", num_classes=2, in_chans=3, image_size=size)
        assert model(torch.randn(2, 3, size, size)).shape == (2, 2)
    model = medaug.create_classifier(
        "simple-cnn", num_classes=2, in_chans=1, image_size=32, widths="8,16", dropout=0.1
    )
    assert model(torch.randn(2, 1, 32, 32)).shape == (2, 2)
    with pytest.raises(MedaugError, match="unknown option"):
        medaug.create_classifier("simple-cnn", num_classes=2, in_chans=1, image_size=32, foo=1)
    with pytest.raises(MedaugError, match="pretrained"):
        medaug.create_classifier(
            "simple-cnn", num_classes=2, in_chans=1, image_size=32, pretrained=True
        )


def test_timm_unknown_model_is_a_clear_error() -> None:
    with pytest.raises(MedaugError, match="timm has no model 'resnet1800'"):
        medaug.create_classifier("timm:resnet1800", num_classes=2, in_chans=1, image_size=32)


def test_timm_pretrained_never_downloads(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """With an empty cache, --pretrained fails fast with a message about the local cache."""
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    started = time.monotonic()
    with pytest.raises(MedaugError, match="not in the local cache"):
        medaug.create_classifier(
            "timm:resnet18", num_classes=2, in_chans=1, image_size=32, pretrained=True
        )
    assert time.monotonic() - started < 60


@pytest.mark.parametrize(
    "options",
    [
        {"checkpoint_path": "/etc/passwd"},
        {"pretrained_cfg_overlay": {"file": "/tmp/x.pth"}},
        {"pretrained_cfg": {"url": "http://example.invalid/w.pth"}},
    ],
)
def test_timm_refuses_options_that_load_files(options: dict[str, object]) -> None:
    with pytest.raises(MedaugError, match=r"unknown option.*valid options: .*drop_rate"):
        medaug.create_classifier(
            "timm:resnet18", num_classes=2, in_chans=1, image_size=32, **options
        )


def test_a_crafted_model_pt_cannot_make_timm_load_files(tmp_path: Path) -> None:
    """model.pt options are passed to the plugin: one that asks for other files is
    refused (and timm accepts only its declared hyper-parameters anyway)."""
    from medaug.training.checkpoint import ClassifierInfo, load_checkpoint, save_checkpoint
    from medaug.training.normalize import Normalizer

    model = medaug.create_classifier("simple-cnn", num_classes=2, in_chans=1, image_size=16)
    for classifier, options, message in (
        ("timm:resnet18", {"pretrained_cfg_overlay": {"file": "/x"}}, "unknown option"),
        ("simple-cnn", {"checkpoint": "/x.pt"}, "asks to load other files"),
    ):
        info = ClassifierInfo(
            classifier=classifier,
            options=options,
            classes=["a", "b"],
            image_size=16,
            channels=1,
            normalizer=Normalizer.from_dict({"mean": [0.5], "std": [0.25]}),
            threshold=0.5,
            positive_class="b",
        )
        path = save_checkpoint(tmp_path / "model.pt", model, info)
        with pytest.raises(MedaugError, match=message):
            load_checkpoint(path)
