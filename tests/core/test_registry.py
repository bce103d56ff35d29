"""Registry behaviour: names, wildcards, variants, errors."""

from __future__ import annotations

import pytest

from medaug.errors import DuplicateNameError, MedaugError, UnknownNameError
from medaug.registry import Registry


def make(**kwargs: object) -> dict[str, object]:
    """A factory recording the options it received."""
    return dict(kwargs)


@pytest.fixture
def reg() -> Registry[dict[str, object]]:
    r: Registry[dict[str, object]] = Registry("generator")
    r.add("dcgan", make, plugin="p1", version="1.0")
    r.add("wgan-gp", make, plugin="p2", description="Wasserstein GAN")
    r.add("timm", make, plugin="p3", variants=True)
    return r


def test_create_drops_none_options(reg: Registry[dict[str, object]]) -> None:
    assert reg.create("dcgan", image_size=32, ngf=None) == {"image_size": 32}


def test_list_wildcards_and_order(reg: Registry[dict[str, object]]) -> None:
    assert reg.list() == ["dcgan", "timm:<variant>", "wgan-gp"]
    assert reg.list("*gan*") == ["dcgan", "wgan-gp"]
    assert reg.list("TIMM*") == ["timm:<variant>"]
    assert reg.list("nothing*") == []


def test_variant_family(reg: Registry[dict[str, object]]) -> None:
    assert reg.create("timm:resnet18", in_chans=1) == {"in_chans": 1, "variant": "resnet18"}
    assert "timm:resnet18" in reg
    with pytest.raises(UnknownNameError, match="needs a variant"):
        reg.create("timm")
    with pytest.raises(UnknownNameError, match="takes no ':variant'"):
        reg.create("dcgan:big")


def test_unknown_name_lists_available_and_suggests(reg: Registry[dict[str, object]]) -> None:
    with pytest.raises(UnknownNameError) as info:
        reg.create("dcgna")
    msg = str(info.value)
    assert "unknown generator 'dcgna'" in msg
    assert "did you mean 'dcgan'" in msg
    assert "dcgan, timm:<variant>, wgan-gp" in msg
    assert isinstance(info.value, MedaugError)


def test_duplicate_names_both_plugins(reg: Registry[dict[str, object]]) -> None:
    with pytest.raises(DuplicateNameError, match="by plugin 'p1' and by plugin 'evil'"):
        reg.add("dcgan", make, plugin="evil")


@pytest.mark.parametrize("bad", ["", " x", "a:b"])
def test_invalid_names(reg: Registry[dict[str, object]], bad: str) -> None:
    with pytest.raises(ValueError, match="invalid generator name"):
        reg.add(bad, make, plugin="p")


def test_description_defaults_to_docstring(reg: Registry[dict[str, object]]) -> None:
    assert reg.get("dcgan").description == "A factory recording the options it received."
    assert reg.get("wgan-gp").description == "Wasserstein GAN"
    assert reg.get("dcgan").version == "1.0"
