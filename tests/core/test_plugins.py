"""Plugin discovery: fake plugins, real entry points, broken plugins, autoload switch."""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

import medaug
from medaug import hookspecs
from medaug.errors import PluginLoadWarning
from medaug.plugins import DISABLE_AUTOLOAD_ENV, PluginHost, get_host
from tests.helpers import fake_distribution


class FakeGenerator:
    """A fake generator for tests."""

    def __init__(self, **options: object) -> None:
        self.options = options


class FakePlugin:
    __name__ = "fake-plugin"

    @medaug.hookimpl
    def register_generators(self, register):  # type: ignore[no-untyped-def]
        register("fake-gan", FakeGenerator)

    @medaug.hookimpl
    def register_classifiers(self, register):  # type: ignore[no-untyped-def]
        register("fake-cnn", FakeGenerator, description="tiny")


@pytest.fixture
def fake_plugin() -> Iterator[str]:
    host = get_host()
    name = host.register(
        FakePlugin(), name="fake-plugin", distribution="medaug-fake", version="9.9"
    )
    assert name == "fake-plugin"
    yield name
    host.unregister(name)


def test_fake_plugin_registers_and_creates(fake_plugin: str) -> None:
    assert "fake-gan" in medaug.list_generators()
    assert medaug.list_generators("fake*") == ["fake-gan"]
    gen = medaug.registry("generator").create("fake-gan", image_size=32, seed=None)
    assert isinstance(gen, FakeGenerator)
    assert gen.options == {"image_size": 32}
    entry = medaug.registry("classifier").get("fake-cnn")
    assert (entry.plugin, entry.version, entry.description) == ("fake-plugin", "9.9", "tiny")


def test_unregister_removes_names(fake_plugin: str) -> None:
    get_host().unregister(fake_plugin)
    assert "fake-gan" not in medaug.list_generators()
    get_host().register(FakePlugin(), name=fake_plugin)  # for the fixture's teardown


def test_duplicate_name_warns_naming_both_and_first_wins(fake_plugin: str) -> None:
    class Clash:
        @medaug.hookimpl
        def register_generators(self, register):  # type: ignore[no-untyped-def]
            register("fake-gan", dict)
            register("clash-only", dict)

    host = get_host()
    host.register(Clash(), name="clash")
    try:
        with pytest.warns(PluginLoadWarning, match="by plugin 'fake-plugin' and by plugin 'clash'"):
            names = medaug.list_generators()
        assert "clash-only" in names
        assert isinstance(medaug.registry("generator").create("fake-gan"), FakeGenerator)
    finally:
        host.unregister("clash")


def test_plugin_raising_in_hook_is_skipped_with_warning(fake_plugin: str) -> None:
    class Broken:
        @medaug.hookimpl
        def register_generators(self, register):  # type: ignore[no-untyped-def]
            register("half-done", dict)
            raise RuntimeError("boom in register")

    host = get_host()
    host.register(Broken(), name="broken")
    try:
        with pytest.warns(PluginLoadWarning, match="'broken' failed to register.*boom in register"):
            names = medaug.list_generators()
        assert "half-done" not in names
        assert "fake-gan" in names
    finally:
        host.unregister("broken")


GOOD_PLUGIN = """
import medaug

class EchoGAN:
    '''Echoes its options.'''
    def __init__(self, **options):
        self.options = options

@medaug.hookimpl
def register_generators(register):
    register("echo-gan", EchoGAN)
"""


@pytest.fixture
def installed_plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A good and a broken third-party plugin, discoverable through real entry points."""
    fake_distribution(tmp_path, "medaug-echo", "medaug_echo_test", GOOD_PLUGIN, "echo")
    fake_distribution(
        tmp_path, "medaug-broken", "medaug_broken_test", "import not_a_module_xyz\n", "broken"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for mod in ("medaug_echo_test", "medaug_broken_test"):
        sys.modules.pop(mod, None)


def test_entry_point_discovery(installed_plugins: Path) -> None:
    with pytest.warns(PluginLoadWarning) as record:
        host = PluginHost()
    messages = [str(w.message) for w in record]
    assert len([m for m in messages if "'broken'" in m]) == 1
    assert any(
        "'broken' (medaug-broken) failed to load" in m and "No module named 'not_a_module_xyz'" in m
        for m in messages
    )
    entry = host.registry("generator").get("echo-gan")
    assert entry.plugin == "echo"
    assert entry.version == "1.2.3"
    assert host.plugin_info("echo").distribution == "medaug-echo"
    assert not host.plugin_info("echo").builtin


def test_disable_autoload_keeps_builtins(
    installed_plugins: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DISABLE_AUTOLOAD_ENV, "1")
    with warnings.catch_warnings():
        warnings.simplefilter("error", PluginLoadWarning)  # the broken one is not even imported
        host = PluginHost()
    assert "echo-gan" not in host.registry("generator")
    builtin = [i for i in host.info.values() if i.builtin]
    assert builtin, "first-party plugins must stay when autoload is disabled"
    assert all(i.distribution.lower() == "medaug" for i in builtin)


def test_builtins_come_through_entry_points() -> None:
    host = get_host()
    for kind in ("generator", "classifier", "reader"):
        for entry in host.registry(kind).entries():
            info = host.plugin_info(entry.plugin)
            assert info.builtin, f"{kind} {entry.name} is not from an entry point"
            assert entry.version == medaug.__version__


# -- hooks are called through pluggy, one plugin at a time ---------------------------------


def test_hookimpl_with_fewer_arguments_than_the_spec_works(fake_plugin: str) -> None:
    calls: list[str] = []

    class NoArgs:
        @medaug.hookimpl
        def register_generators(self) -> None:
            calls.append("called")

    get_host().register(NoArgs(), name="no-args")
    assert "fake-gan" in medaug.list_generators()
    assert calls == ["called"]


class GrownSpecs:
    """``register_generators`` as it might grow: a second argument."""

    PROJECT_NAME = hookspecs.PROJECT_NAME

    @hookspecs.hookspec
    def register_generators(self, register, context):  # type: ignore[no-untyped-def]
        """A grown spec."""


def test_a_grown_spec_does_not_break_old_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(medaug.plugins, "hookspecs", GrownSpecs)
    host = PluginHost(autoload=False)

    class Old:
        @medaug.hookimpl
        def register_generators(self, register):  # type: ignore[no-untyped-def]
            register("old-gan", dict)

    class New:
        @medaug.hookimpl
        def register_generators(self, register, context):  # type: ignore[no-untyped-def]
            register(f"new-gan-{context}", dict)

    host.register(Old(), name="old")
    host.register(New(), name="new")
    got: list[tuple[object, ...]] = []
    results = list(
        host.call_each("register_generators", register=lambda *a, **k: got.append(a), context="ctx")
    )
    assert results == [("old", None), ("new", None)]
    assert got == [("old-gan", dict), ("new-gan-ctx", dict)]


def test_names_are_attributed_to_their_plugin_builtins_first() -> None:
    class ThirdParty:
        @medaug.hookimpl
        def register_generators(self, register):  # type: ignore[no-untyped-def]
            register("shared-gan", dict)
            register("third-gan", dict)

    class Builtin:
        @medaug.hookimpl
        def register_generators(self, register):  # type: ignore[no-untyped-def]
            register("shared-gan", list)

    host = PluginHost(autoload=False)
    host.register(ThirdParty(), name="third", version="2.0")  # registered first...
    host.register(Builtin(), name="core", version="1.0", builtin=True)
    with pytest.warns(PluginLoadWarning, match="by plugin 'core' and by plugin 'third'"):
        reg = host.registry("generator")
    assert (reg.get("shared-gan").plugin, reg.get("shared-gan").version) == ("core", "1.0")
    assert (reg.get("third-gan").plugin, reg.get("third-gan").version) == ("third", "2.0")


def test_broken_register_commands_is_one_warning_and_the_cli_works() -> None:
    import click

    from medaug.cli import MedaugGroup

    class BrokenCommands:
        @medaug.hookimpl
        def register_commands(self, cli):  # type: ignore[no-untyped-def]
            raise RuntimeError("boom in commands")

    host = get_host()
    host.register(BrokenCommands(), name="broken-commands")
    group = MedaugGroup(name="medaug")
    with pytest.warns(PluginLoadWarning) as record:
        host.add_commands(group)
        host.add_commands(group)  # a second build does not repeat the warning
    messages = [str(w.message) for w in record]
    assert messages == [
        "plugin 'broken-commands' failed to add its commands: RuntimeError: boom in commands"
    ]
    assert isinstance(group, click.Group)


def test_broken_hook_warns_once_across_registry_rebuilds(fake_plugin: str) -> None:
    class Broken:
        @medaug.hookimpl
        def register_generators(self, register):  # type: ignore[no-untyped-def]
            raise RuntimeError("always")

    host = get_host()
    host.register(Broken(), name="broken")
    with pytest.warns(PluginLoadWarning) as record:
        assert "fake-gan" in host.registry("generator")
        host.unregister(fake_plugin)  # invalidates the registries
        assert "fake-gan" not in host.registry("generator")
    host.register(FakePlugin(), name=fake_plugin)  # for the fixture's teardown
    assert [str(w.message) for w in record] == [
        "plugin 'broken' failed to register its generators and was skipped: RuntimeError: always"
    ]


def test_plugin_calling_sys_exit_at_import_is_isolated(tmp_path: Path) -> None:
    """A plugin that calls sys.exit() (or raises any BaseException but Ctrl-C) while
    being imported is one warning; every command, even --version, keeps working."""
    import subprocess

    fake_distribution(
        tmp_path, "medaug-exits", "medaug_exits_test", "import sys\nsys.exit(3)\n", "exits"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    procs = {
        args[0]: subprocess.run(
            [sys.executable, "-m", "medaug", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        for args in (["--version"], ["--help"], ["plugins", "--json"])
    }
    assert all(p.returncode == 0 for p in procs.values()), [p.stderr for p in procs.values()]
    assert procs["--version"].stdout.startswith("medaug, version")
    loaded = procs["plugins"]  # the one that imports every plugin
    assert "'exits' (medaug-exits) failed to load" in loaded.stderr
    assert "SystemExit: 3" in loaded.stderr
    assert '"dcgan"' in loaded.stdout
