"""``create_*`` return typed objects, check generator sizes before building, and name
the plugin in every error."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

import pytest
import torch

import medaug
from medaug.contracts.generator import Generator
from medaug.contracts.reader import Reader
from medaug.plugins import get_host


class SizedGenerator(Generator):
    """Counts constructions; declares two sizes but does not check them itself."""

    supported_sizes: ClassVar[tuple[int, ...]] = (16, 32)
    built: ClassVar[int] = 0

    def __init__(self, *, image_size: int = 16, channels: int = 1, **options: Any) -> None:
        type(self).built += 1
        self.image_size, self.channels = image_size, channels
        self.device = torch.device("cpu")

    def fit(self, images: torch.Tensor, **kwargs: Any) -> None:  # type: ignore[override]
        raise NotImplementedError

    def sample(self, n: int, *, seed: int, labels: torch.Tensor | None = None) -> torch.Tensor:
        return torch.zeros(n, self.channels, self.image_size, self.image_size)

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        return None

    @property
    def epochs_done(self) -> int:
        return 0


def sized_by_function(**options: Any) -> SizedGenerator:
    """A function factory: sizes are only known from the class it returns."""
    return SizedGenerator(**options)


class WrongTypes:
    @medaug.hookimpl
    def register_generators(self, register):  # type: ignore[no-untyped-def]
        register("sized-gan", SizedGenerator)
        register("sized-fn-gan", sized_by_function)
        register("dict-gan", dict)

    @medaug.hookimpl
    def register_classifiers(self, register):  # type: ignore[no-untyped-def]
        register("not-a-module", dict)

    @medaug.hookimpl
    def register_readers(self, register):  # type: ignore[no-untyped-def]
        register("not-a-reader", dict)


@pytest.fixture
def wrong_types() -> Iterator[None]:
    host = get_host()
    host.register(WrongTypes(), name="wrong-types")
    SizedGenerator.built = 0
    yield
    host.unregister("wrong-types")


def test_typed_objects_for_the_builtins() -> None:
    assert isinstance(medaug.create_generator("dcgan", image_size=16), Generator)
    net = medaug.create_classifier("simple-cnn", num_classes=2, in_chans=1, image_size=16)
    assert isinstance(net, torch.nn.Module)
    assert isinstance(medaug.create_reader("folder"), Reader)


@pytest.mark.usefixtures("wrong_types")
@pytest.mark.parametrize(
    ("create", "name", "what"),
    [
        (medaug.create_generator, "dict-gan", "a medaug Generator"),
        (medaug.create_classifier, "not-a-module", "a torch.nn.Module"),
        (medaug.create_reader, "not-a-reader", "a medaug Reader"),
    ],
)
def test_wrong_type_is_an_error_naming_the_plugin(create: Any, name: str, what: str) -> None:
    with pytest.raises(medaug.MedaugError) as info:
        create(name)
    assert f"{name!r} (plugin 'wrong-types') built a dict, not {what}" in str(info.value)


@pytest.mark.usefixtures("wrong_types")
def test_unsupported_size_fails_before_building() -> None:
    with pytest.raises(medaug.MedaugError) as info:
        medaug.create_generator("sized-gan", image_size=64)
    assert str(info.value) == (
        "generator 'sized-gan' (plugin 'wrong-types') supports image sizes 16, 32; "
        "got image_size=64"
    )
    assert SizedGenerator.built == 0
    assert medaug.create_generator("sized-gan", image_size=32).image_size == 32


@pytest.mark.usefixtures("wrong_types")
def test_unsupported_size_of_a_function_factory_is_caught_from_the_class() -> None:
    with pytest.raises(medaug.MedaugError, match="supports image sizes 16, 32; got image_size=64"):
        medaug.create_generator("sized-fn-gan", image_size=64)


def test_builtin_option_errors_are_medaug_errors() -> None:
    with pytest.raises(medaug.MedaugError, match="unknown dcgan option 'foo'"):
        medaug.create_generator("dcgan", image_size=16, foo=1)
    with pytest.raises(medaug.MedaugError, match=r"reader 'folder' \(plugin 'folder'\)"):
        medaug.create_reader("folder", labels="x.csv")
