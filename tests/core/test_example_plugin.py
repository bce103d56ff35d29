"""The example third-party WGAN-GP plugin plugs in through a real entry point, registers
lazily, and passes its own contract tests (medaug.testing) as an installed plugin would."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

import medaug.plugins
from medaug.plugins import PluginHost
from medaug.testing import Check, parametrize_with_checks

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "medaug-wgan-example"
MODULES = ("medaug_wgan_example", "medaug_wgan_example.model")


def _load_example_tests() -> ModuleType:
    path = EXAMPLE / "tests" / "test_contract.py"
    spec = importlib.util.spec_from_file_location("medaug_wgan_example_contract_tests", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


EXAMPLE_TESTS = _load_example_tests()


@pytest.fixture
def wgan_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The example discoverable as an installed distribution would be (no pip install)."""
    info = tmp_path / "medaug_wgan_example-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: medaug-wgan-example\nVersion: 0.1.0\n"
    )
    (info / "entry_points.txt").write_text("[medaug]\nwgan-gp = medaug_wgan_example\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.syspath_prepend(str(EXAMPLE))
    medaug.plugins.reset_host()
    yield
    for name in MODULES:
        sys.modules.pop(name, None)


@pytest.mark.usefixtures("wgan_installed")
def test_discovered_lazily_with_distribution_version() -> None:
    host = PluginHost()
    entry = host.registry("generator").get("wgan-gp")
    assert entry.version == "0.1.0"
    assert host.plugin_info(entry.plugin).distribution == "medaug-wgan-example"
    assert not host.plugin_info(entry.plugin).builtin
    assert entry.description == "WGAN with gradient penalty (example third-party plugin)."
    assert "medaug_wgan_example.model" not in sys.modules  # registered, not imported
    assert entry.attribute("supported_sizes") == (16, 32, 64, 128, 256)


@pytest.mark.usefixtures("wgan_installed")
@parametrize_with_checks("generator", ["wgan-gp"], **EXAMPLE_TESTS.SMALL)
def test_example_passes_the_contract_checks(check: Check) -> None:
    EXAMPLE_TESTS.test_medaug_contract(check)


@pytest.mark.usefixtures("wgan_installed")
def test_example_size_error() -> None:
    EXAMPLE_TESTS.test_unsupported_size_is_a_clear_error()
