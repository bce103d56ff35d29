"""The feature-extractor contract checks medaug ships (``medaug.testing``), run on every
registered extractor: a new one is checked as soon as it is registered."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import medaug
from medaug.testing import extractor_checks

from .test_extractors import _timm_weights, _tv_weights


def _concrete(name: str, tmp_path: Path) -> tuple[str, dict[str, Any]]:
    """A buildable name and options for a registered extractor: a short training for
    trainable ones, a local weights file for backbone families."""
    if name == "timm:<variant>":
        return "timm:test_resnet", {"weights": str(_timm_weights(tmp_path))}
    if name == "torchvision:<variant>":
        return "torchvision:shufflenet_v2_x0_5", {"weights": str(_tv_weights(tmp_path))}
    return name, {"steps": 5} if name == "domain" else {}


@pytest.mark.parametrize("name", medaug.plugins.list_feature_extractors())
def test_every_extractor_passes_the_shipped_checks(name: str, tmp_path: Path) -> None:
    concrete, options = _concrete(name, tmp_path)
    checks = list(extractor_checks(concrete, **options))
    assert len(checks) == 4
    for check in checks:
        check()


def test_a_broken_extractor_fails_its_check() -> None:
    from torch import nn

    from medaug.contracts.features import FeatureExtractor

    class Noisy(FeatureExtractor):
        """Features that change from call to call (dropout left on)."""

        def __init__(self, *, image_size: int, channels: int, device: str = "cpu") -> None:
            self.image_size, self.channels = image_size, channels
            self.net = nn.Sequential(nn.Flatten(), nn.Dropout(0.5), nn.Linear(image_size**2, 4))
            self.net.num_features = 4  # type: ignore[assignment]

        @property
        def num_features(self) -> int:
            return 4

        def module(self) -> nn.Module:
            return self.net  # still in training mode

    class Plugin:
        @medaug.hookimpl
        def register_feature_extractors(self, register):  # type: ignore[no-untyped-def]
            register("noisy", Noisy)

    medaug.get_plugin_manager().register(Plugin(), name="noisy-plugin")
    check = {c.check: c for c in extractor_checks("noisy")}["features_shape_finite_and_repeatable"]
    with pytest.raises(AssertionError, match="training mode"):
        check()


def test_a_factory_building_something_else_is_one_medaug_error() -> None:
    class Plugin:
        @medaug.hookimpl
        def register_feature_extractors(self, register):  # type: ignore[no-untyped-def]
            register("not-one", lambda **_: object())

    medaug.get_plugin_manager().register(Plugin(), name="not-one-plugin")
    with pytest.raises(medaug.MedaugError, match="built a object, not a FeatureExtractor"):
        medaug.create_feature_extractor("not-one", image_size=32, channels=1)
