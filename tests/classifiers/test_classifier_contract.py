"""Contract tests run on every registered classifier (timm's family through a few variants).

A new classifier plugin is tested here without new test code: forward/backward at 32 px,
1 and 3 channels, output shape, finite values and gradients, state_dict round trip.
"""

from __future__ import annotations

import time

import pytest
import torch

import medaug
from medaug.errors import MedaugError

#: the variants tested for families registered as ``name:<variant>``
FAMILY_VARIANTS = {"timm": ("resnet18", "efficientnet_b0")}


def _classifier_names() -> list[str]:
    names: list[str] = []
    for name in medaug.list_classifiers():
        family, sep, _ = name.partition(":")
        if sep:
            names += [f"{family}:{v}" for v in FAMILY_VARIANTS.get(family, ())]
        else:
            names.append(name)
    return names


CLASSIFIERS = _classifier_names()


def test_first_party_classifiers_are_registered() -> None:
    assert "simple-cnn" in CLASSIFIERS
    assert "timm:resnet18" in CLASSIFIERS


@pytest.mark.parametrize("name", CLASSIFIERS)
@pytest.mark.parametrize(("in_chans", "num_classes"), [(1, 2), (3, 3)])
def test_forward_backward_shapes_no_nan(name: str, in_chans: int, num_classes: int) -> None:
    torch.manual_seed(0)
    model = medaug.create_classifier(
        name, num_classes=num_classes, in_chans=in_chans, image_size=32
    )
    assert isinstance(model, torch.nn.Module)
    x = torch.randn(4, in_chans, 32, 32)
    model.train()
    logits = model(x)
    assert logits.shape == (4, num_classes)
    assert torch.isfinite(logits).all()
    loss = torch.nn.functional.cross_entropy(logits, torch.arange(4) % num_classes)
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert grads and all(g is not None and torch.isfinite(g).all() for g in grads)
    assert any(float(g.abs().sum()) > 0 for g in grads if g is not None)


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_eval_is_deterministic_and_state_round_trips(name: str) -> None:
    build = dict(num_classes=2, in_chans=1, image_size=32)
    model = medaug.create_classifier(name, **build).eval()
    x = torch.randn(3, 1, 32, 32)
    with torch.no_grad():
        a, b = model(x), model(x)
    assert torch.equal(a, b)
    clone = medaug.create_classifier(name, **build).eval()
    clone.load_state_dict(model.state_dict())
    with torch.no_grad():
        assert torch.allclose(clone(x), a, atol=1e-6)


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


def test_timm_pretrained_never_downloads(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    """With an empty cache, --pretrained fails fast with a message about the local cache."""
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    started = time.monotonic()
    with pytest.raises(MedaugError, match="not in the local cache"):
        medaug.create_classifier(
            "timm:resnet18", num_classes=2, in_chans=1, image_size=32, pretrained=True
        )
    assert time.monotonic() - started < 60
