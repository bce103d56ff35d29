"""The command group: version, help, plugins listing, error handling."""

from __future__ import annotations

import json
from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

import medaug
from medaug.cli import build_cli, main
from medaug.errors import MedaugError
from medaug.plugins import KINDS, get_host


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_version(runner: CliRunner) -> None:
    result = runner.invoke(build_cli(), ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"medaug, version {medaug.__version__}"


def test_help_has_examples_and_commands(runner: CliRunner) -> None:
    result = runner.invoke(build_cli(), ["--help"])
    assert result.exit_code == 0
    assert "Examples:" in result.output
    assert "plugins" in result.output


def test_plugins_json_is_plain_json(runner: CliRunner) -> None:
    result = runner.invoke(build_cli(), ["plugins", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert isinstance(rows, list)
    for row in rows:
        assert {"name", "kind", "plugin", "version"} <= row.keys()
        assert row["kind"] in KINDS


@pytest.mark.parametrize("kind", ["generator", "classifier", "reader"])
def test_plugins_lists_every_registered_name(runner: CliRunner, kind: str) -> None:
    rows = json.loads(runner.invoke(build_cli(), ["plugins", "--json"]).stdout)
    listed = {r["name"] for r in rows if r["kind"] == kind}
    assert listed == set(medaug.registry(kind).list())


def test_plugins_table(runner: CliRunner) -> None:
    result = runner.invoke(build_cli(), ["plugins"])
    assert result.exit_code == 0
    assert "medaug plugins" in result.output


class CommandPlugin:
    @medaug.hookimpl
    def register_commands(self, cli: click.Group) -> None:
        @cli.command("boom")
        @click.option("--kind", default="user")
        def boom(kind: str) -> None:
            """Fail on purpose."""
            if kind == "user":
                raise MedaugError("the folder 'x' does not exist")
            raise RuntimeError("internal")

        @cli.command("hello")
        def hello() -> None:
            """Say hello."""
            click.echo("hello from a plugin")


@pytest.fixture
def command_plugin() -> Iterator[click.Group]:
    host = get_host()
    host.register(CommandPlugin(), name="cmd-plugin")
    from medaug.cli import MedaugGroup, cli

    group = MedaugGroup(name="medaug", params=list(cli.params), callback=cli.callback)
    for name, cmd in build_cli().commands.items():
        group.add_command(cmd, name)
    host.add_commands(group)
    yield group
    host.unregister("cmd-plugin")


def test_plugin_commands_and_one_line_errors(
    runner: CliRunner, command_plugin: click.Group
) -> None:
    ok = runner.invoke(command_plugin, ["hello"])
    assert ok.output.strip() == "hello from a plugin"

    user = runner.invoke(command_plugin, ["boom"])
    assert user.exit_code == 1
    assert "Error: the folder 'x' does not exist" in user.stderr
    assert "Traceback" not in user.output + user.stderr
    assert user.stdout == ""

    internal = runner.invoke(command_plugin, ["boom", "--kind", "bug"])
    assert internal.exit_code == 1
    assert "RuntimeError: internal" in internal.stderr
    assert "--debug" in internal.stderr

    debug = runner.invoke(command_plugin, ["--debug", "boom"])
    assert isinstance(debug.exception, MedaugError)


def test_main_unknown_command_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["no-such-command"])
    assert info.value.code == 2
    assert "No such command" in capsys.readouterr().err


DATA_COMMANDS = ("inspect", "balance", "train", "evaluate", "experiment")


@pytest.mark.parametrize("name", DATA_COMMANDS)
def test_every_data_command_has_the_dataset_options(runner: CliRunner, name: str) -> None:
    """Every command that reads a dataset takes the same dataset options (no drift)."""
    from medaug.cli.options import DATASET_OPTION_NAMES

    result = runner.invoke(build_cli(), [name, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    for flag in (
        "--labels FILE",
        "--label-tag TAG",
        "--id-column",
        "--label-column",
        "--reader NAME",
        "--patient-regex",
        "--cache-dir",
        "--workers",
        "--max-pixels",
        "--window MODE",
    ):
        assert flag in result.output, f"{name} --help lacks {flag}"

    def shape(cmd: click.Command) -> list[dict[str, object]]:
        params = {p.name: p for p in cmd.params if isinstance(p, click.Option)}
        return [params[n].to_info_dict() for n in DATASET_OPTION_NAMES]

    group = build_cli()
    assert isinstance(group, click.Group)
    assert shape(group.commands[name]) == shape(group.commands["inspect"])
