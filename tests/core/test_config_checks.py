"""Configs check plugin names, option names and the strategy when they are built, with
messages that name the setting: a typo stops a run before anything trains."""

from __future__ import annotations

from pathlib import Path

import pytest

import medaug
from medaug.balancing.config import BalanceConfig
from medaug.errors import ConfigError, MedaugError
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


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: BalanceConfig(out="o", epochs=0), r"^epochs and batch_size must be at least 1$"),
        (lambda: BalanceConfig(out="o", epochs=2, steps=5), r"^give epochs or steps, not both$"),
        (lambda: BalanceConfig(out="o", audit=False, reject_memorized=True), "^reject_memorized"),
        (lambda: BalanceConfig(out="o", link="soft"), r"^invalid link 'soft'"),
        (
            lambda: ExperimentConfig(
                train="a", test="b", out="c", classifier="simple-cnn", arms=("baseline",), seeds=0
            ),
            r"^seeds must be >= 1$",
        ),
        (
            lambda: ExperimentConfig(
                train="a",
                test="b",
                out="c",
                classifier="simple-cnn",
                arms=("baseline",),
                val_fraction=1.0,
            ),
            r"^val_fraction must be between 0 and 1$",
        ),
    ],
)
def test_library_messages_name_the_config_fields_not_cli_flags(build, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match=message):
        build()


def test_a_config_error_renders_with_other_names() -> None:
    exc = ConfigError("give {epochs} or {steps}, not both", "epochs", "steps")
    assert str(exc) == "give epochs or steps, not both"
    assert exc.naming({"epochs": "--epochs"}) == "give --epochs or steps, not both"


def test_the_cli_names_its_flags_for_a_config_error(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from medaug.cli import cli

    res = CliRunner().invoke(
        cli,
        ["balance", str(tmp_path), "--out", str(tmp_path / "o"), "--epochs", "2", "--steps", "3"],
    )
    assert res.exit_code == 1
    assert "give --epochs or --steps, not both" in res.stderr


def test_the_synthetic_share_cap() -> None:
    from medaug.output.strategy import cap_share

    counts = {"A": 10, "B": 100}
    assert cap_share(counts, {"A": 90}, 0.5) == {"A": 10}
    assert cap_share(counts, {"A": 90}, 0.2) == {"A": 2}  # 2 of 12: share <= 0.2
    assert cap_share(counts, {"A": 3}, 0.5) == {"A": 3}
    assert cap_share(counts, {"A": 90}, None) == {"A": 90}
    assert cap_share({"A": 1}, {"A": 5}, 0.1) == {}  # nothing left to add
    for bad in (0, 1.0, 1.5, True):
        with pytest.raises(ConfigError, match=r"^max_synthetic_share must be a fraction"):
            BalanceConfig(out="o", max_synthetic_share=bad)
    config = dict(train="a", test="b", out="c", classifier="simple-cnn", arms=("baseline",))
    default = ExperimentConfig(**config).fingerprint()  # capped at 0.5 by default
    assert default == ExperimentConfig(**config, max_synthetic_share=0.5).fingerprint()
    assert default != ExperimentConfig(**config, max_synthetic_share=None).fingerprint()
    assert BalanceConfig(out="o").max_synthetic_share == 0.5
    with pytest.raises(ConfigError, match="max_synthetic_share"):
        ExperimentConfig(**config, max_synthetic_share=2.0)
    from medaug.training import TrainConfig

    weighted = ExperimentConfig(**config, train_config=TrainConfig(synthetic_weight=0.5))
    assert weighted.fingerprint() != ExperimentConfig(**config).fingerprint()
    assert ExperimentConfig(
        **config, train_config=TrainConfig(synthetic_weight=1.0)
    ).fingerprint() == (ExperimentConfig(**config).fingerprint())
