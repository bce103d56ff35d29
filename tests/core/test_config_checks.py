"""Configs check plugin names, option names and the strategy when they are built, with
messages that name the setting: a typo stops a run before anything trains."""

from __future__ import annotations

import pytest

import medaug
from medaug.balancing.config import BalanceConfig
from medaug.errors import MedaugError
from medaug.experiments.config import ExperimentConfig
from medaug.plugins import check_choice


def _kinds() -> list[tuple[str, str]]:
    return [
        (kind, name)
        for kind in ("generator", "classifier", "reader", "feature_extractor")
        for name in medaug.plugins.registry(kind).list()
    ]


@pytest.mark.parametrize(("kind", "name"), _kinds())
def test_every_registered_plugin_passes_and_a_typo_of_it_does_not(kind: str, name: str) -> None:
    family, _, variant = name.partition(":")
    check_choice(kind, f"{family}:resnet18" if variant else family, field=kind)
    with pytest.raises(MedaugError, match=rf"^{kind}: unknown {kind} '{family}x'"):
        check_choice(kind, family + "x", field=kind)


def test_an_option_the_factory_has_no_parameter_for_names_the_field() -> None:
    with pytest.raises(MedaugError, match=r"^audit_options: .*'stpes'.*valid options: .*steps"):
        check_choice("feature_extractor", "domain", {"stpes": 9}, field="audit")
    check_choice("feature_extractor", "domain", {"steps": 9}, field="audit")
    # a factory taking **options checks its options itself, when it is built
    check_choice("classifier", "simple-cnn", {"dropot": 0.1}, field="classifier")


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"generator": "dcgn"}, r"^generator: unknown generator 'dcgn'.*did you mean 'dcgan'"),
        ({"strategy": "bogus"}, r"^strategy: invalid strategy 'bogus'"),
        ({"strategy": "NORMAL=-3"}, r"^strategy: "),
    ],
)
def test_balance_config_refuses_when_built(settings: dict[str, str], message: str) -> None:
    with pytest.raises(MedaugError, match=message):
        BalanceConfig(out="never-written", **settings)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"generator": "no-such"}, r"^generator: unknown generator 'no-such'"),
        ({"classifier": "simpel-cnn"}, r"^classifier: unknown classifier 'simpel-cnn'"),
        ({"strategy": "bogus"}, r"^strategy: invalid strategy 'bogus'"),
    ],
)
def test_experiment_config_refuses_when_built(settings: dict[str, object], message: str) -> None:
    base: dict[str, object] = {
        "train": "a",
        "test": "b",
        "out": "c",
        "classifier": "simple-cnn",
        "generator": "dcgan",
    }
    with pytest.raises(MedaugError, match=message):
        ExperimentConfig(**{**base, **settings})  # type: ignore[arg-type]


def test_experiment_without_the_gan_arm_does_not_look_up_a_generator() -> None:
    config = ExperimentConfig(
        train="a", test="b", out="c", classifier="simple-cnn", arms=("baseline", "classic")
    )
    assert config.generator is None


def test_a_late_registered_generator_is_checked_against_the_fresh_registry() -> None:
    from medaug.contracts.generator import Generator

    class Late:
        @medaug.hookimpl
        def register_generators(self, register):  # type: ignore[no-untyped-def]
            register("late-gan", lambda **_: Generator)

    assert "late-gan" not in medaug.list_generators()  # the registry is built and cached
    medaug.get_plugin_manager().register(Late(), name="late")
    assert "late-gan" in medaug.list_generators()
    BalanceConfig(out="never-written", generator="late-gan")
