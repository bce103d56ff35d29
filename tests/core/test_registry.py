"""Registry behaviour: names, wildcards, variants, errors."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from medaug.errors import DuplicateNameError, MedaugError, UnknownNameError
from medaug.registry import (
    Registry,
    factory_kwargs,
    option_groups,
    option_problem,
    unknown_options,
    valid_options,
)


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


# -- option errors: one MedaugError naming kind, name, plugin and the valid options ---------


class Strict:
    """A factory with a fixed signature."""

    def __init__(self, *, image_size: int, channels: int = 1, width: int = 8) -> None:
        self.image_size, self.channels, self.width = image_size, channels, width


def flexible(*, image_size: int, **options: object) -> dict[str, object]:
    """A factory that validates its own ``**options``."""
    return {"image_size": image_size, **options}


@pytest.fixture
def strict() -> Registry[object]:
    r: Registry[object] = Registry("generator")
    r.add("strict", Strict, plugin="strict-plugin")
    r.add("flexible", flexible, plugin="flex-plugin")
    return r


def test_unknown_option_is_one_clear_error(strict: Registry[object]) -> None:
    with pytest.raises(MedaugError) as info:
        strict.create("strict", image_size=16, widht=4, depth=2)
    assert str(info.value) == (
        "generator 'strict' (plugin 'strict-plugin'): unknown options 'widht', 'depth'; "
        "valid options: image_size, channels, width"
    )
    assert not isinstance(info.value, TypeError)


def test_missing_option_is_one_clear_error(strict: Registry[object]) -> None:
    with pytest.raises(
        MedaugError, match=r"\(plugin 'strict-plugin'\): missing option 'image_size'"
    ):
        strict.create("strict", channels=3)


def test_kwargs_factories_receive_every_option(strict: Registry[object]) -> None:
    assert strict.create("flexible", image_size=16, anything=1) == {"image_size": 16, "anything": 1}
    with pytest.raises(MedaugError, match=r"'flexible' .*missing option 'image_size'"):
        strict.create("flexible", anything=1)


def test_type_errors_inside_a_factory_are_not_relabelled(strict: Registry[object]) -> None:
    def buggy(*, image_size: int) -> object:
        return image_size + "px"  # type: ignore[operator]

    strict.add("buggy", buggy, plugin="p")
    with pytest.raises(TypeError, match="unsupported operand"):
        strict.create("buggy", image_size=16)


# -- string factories: registered without importing, resolved on first use ------------------


@pytest.fixture
def lazy_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A module ``medaug_lazy_factory_test`` on sys.path that records its import."""
    name = "medaug_lazy_factory_test"
    (tmp_path / f"{name}.py").write_text(
        textwrap.dedent(
            '''
            class Net:
                """A lazily imported network."""

                supported_sizes = (16, 32)

                def __init__(self, *, size: int = 16) -> None:
                    self.size = size
            '''
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)


def test_string_factory_is_imported_on_first_use(lazy_module: str) -> None:
    r: Registry[object] = Registry("classifier")
    entry = r.add("net", f"{lazy_module}:Net", plugin="p", description="given")
    assert entry.description == "given"
    assert r.list() == ["net"]
    assert lazy_module not in sys.modules
    net = r.create("net", size=32)
    assert lazy_module in sys.modules
    assert type(net).__name__ == "Net" and net.size == 32  # type: ignore[attr-defined]
    assert entry.attribute("supported_sizes") == (16, 32)
    with pytest.raises(MedaugError, match="unknown option 'width'; valid options: size"):
        r.create("net", width=3)


def test_string_factory_description_defaults_to_its_docstring(lazy_module: str) -> None:
    r: Registry[object] = Registry("classifier")
    assert r.add("net", f"{lazy_module}:Net", plugin="p").description == (
        "A lazily imported network."
    )


def test_string_factory_that_cannot_load_is_a_clear_error() -> None:
    r: Registry[object] = Registry("reader")
    r.add("ghost", "no_such_module_xyz.sub:Reader", plugin="ghost-plugin", description="x")
    with pytest.raises(MedaugError) as info:
        r.create("ghost")
    assert str(info.value).startswith(
        "reader 'ghost' (plugin 'ghost-plugin'): cannot load its factory "
        "'no_such_module_xyz.sub:Reader' (ModuleNotFoundError:"
    )
    assert r.get("ghost").description == "x"


@pytest.mark.parametrize("bad", ["module", "module:", ":Attr", "a b:C", "mod:1x"])
def test_invalid_factory_reference(bad: str) -> None:
    with pytest.raises(ValueError, match="invalid factory reference"):
        Registry("generator").add("x", bad, plugin="p")


def test_non_callable_factory_is_refused() -> None:
    with pytest.raises(TypeError, match="must be callable"):
        Registry("generator").add("x", 42, plugin="p")  # type: ignore[arg-type]


# -- option groups: a parameter annotated with a dataclass takes its fields as options -------


@dataclass(frozen=True)
class Shape:
    """An option group."""

    width: int = 8
    depth: int = 2


@dataclass(frozen=True)
class Needs:
    """An option group with a required field."""

    size: int


def grouped(*, image_size: int, shape: Shape = Shape(depth=3), **extra: object) -> object:
    """A factory whose ``shape`` options arrive as one :class:`Shape`."""
    return {"image_size": image_size, "shape": shape, **extra}


class GroupedClass:
    """A class factory with an option group and no ``**options``."""

    def __init__(self, *, channels: int = 1, shape: Shape = Shape(), needs: Needs) -> None:
        self.channels, self.shape, self.needs = channels, shape, needs


@pytest.fixture
def groups() -> Registry[object]:
    r: Registry[object] = Registry("classifier")
    r.add("grouped", grouped, plugin="g")
    r.add("klass", GroupedClass, plugin="k")
    return r


def test_option_group_fields_are_listed_in_place_of_the_group() -> None:
    assert option_groups(grouped) == {"shape": Shape}
    assert valid_options(grouped) == "image_size, width, depth"
    assert valid_options(GroupedClass) == "channels, width, depth, size"
    assert option_groups(make) == {} and valid_options(Strict) == "image_size, channels, width"


def test_option_group_options_are_gathered_into_the_dataclass(groups: Registry[object]) -> None:
    built = groups.create("grouped", image_size=16, width=4, other=1)
    assert built == {"image_size": 16, "shape": Shape(width=4, depth=3), "other": 1}
    # no option of the group given: the factory's own default instance applies
    assert groups.create("grouped", image_size=16) == {"image_size": 16, "shape": Shape(depth=3)}
    k = groups.create("klass", size=5, depth=1)
    assert isinstance(k, GroupedClass)
    assert (k.channels, k.shape, k.needs) == (1, Shape(depth=1), Needs(size=5))
    assert factory_kwargs(GroupedClass, {"channels": 3, "size": 2}) == {
        "channels": 3,
        "needs": Needs(size=2),
    }


def test_option_group_errors_list_the_fields(groups: Registry[object]) -> None:
    with pytest.raises(MedaugError) as info:
        groups.create("klass", size=1, widht=3)
    assert str(info.value) == (
        "classifier 'klass' (plugin 'k'): unknown option 'widht'; "
        "valid options: channels, width, depth, size"
    )
    with pytest.raises(MedaugError, match=r"'klass' .*missing option 'size'; valid options"):
        groups.create("klass", width=3)
    # the group's own name is no option, even for a factory taking **options
    with pytest.raises(MedaugError, match=r"'grouped' .*unknown option 'shape'; valid options"):
        groups.create("grouped", image_size=16, shape=Shape())
    assert unknown_options(grouped, {"shape": 1, "anything": 2}) == ["shape"]
    assert option_problem(GroupedClass, {"size": 1, "depth": 4}) is None


def test_an_annotation_that_does_not_resolve_leaves_a_plain_option(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = "medaug_unresolved_group_test"
    (tmp_path / f"{name}.py").write_text(
        textwrap.dedent(
            """
            from __future__ import annotations
            from typing import TYPE_CHECKING
            if TYPE_CHECKING:
                from tests.core.test_registry import Shape

            def build(*, shape: Shape | None = None, size: int = 1) -> object:
                return shape, size
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        r: Registry[object] = Registry("classifier")
        r.add("u", f"{name}:build", plugin="p", description="x")
        assert valid_options(r.get("u").factory) == "shape, size"
        assert r.create("u", shape=3) == (3, 1)
    finally:
        sys.modules.pop(name, None)


def test_option_group_fields_may_not_repeat_option_names() -> None:
    def clash(*, width: int = 1, shape: Shape = Shape()) -> object:
        return width, shape

    with pytest.raises(TypeError, match="repeat option names 'width'"):
        valid_options(clash)
