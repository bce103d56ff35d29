"""The ``medaug`` command line: one Click group, one module per command.

Core commands live in :mod:`medaug.cli.commands` (each module exposes ``command``);
plugins add theirs through the ``register_commands`` hook.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import signal
import sys
import warnings
from typing import Any, NoReturn

import click

from medaug import distributed
from medaug._version import __version__
from medaug.cli.launch import describe_failure, launch_session, report_error
from medaug.console import warn
from medaug.errors import ConfigError, MedaugError, PluginLoadWarning
from medaug.runtime import prefer_passive_openmp_wait

EPILOG = """\b
Examples:
  medaug plugins                          list generators, classifiers, readers
  medaug inspect data/                    class counts, imbalance, skipped files
  medaug balance --generator dcgan data/ --out balanced/
  medaug experiment --train data/ --test test/ --generator dcgan \\
                    --classifier simple-cnn --out results/

Run 'medaug COMMAND --help' for the options of one command.
"""


class MedaugGroup(click.Group):
    """A group that reports user errors in one line instead of a traceback.

    Commands load on demand: ``medaug plugins`` imports only its own module, and plugin
    commands are added when a name is not a core command or when all are listed
    (``--help``); ``--version`` imports none.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._all_loaded = False

    def load_all(self) -> None:
        """Add every core command, then every plugin's commands (once)."""
        if self._all_loaded:
            return
        self._all_loaded = True
        for name in _core_command_modules():
            self._load_core(name)
        from medaug.plugins import get_host

        get_host().add_commands(self)

    def _load_core(self, module_name: str) -> None:
        module = importlib.import_module(f"{_COMMANDS_PACKAGE}.{module_name}")
        command: click.Command = module.command
        if command.name not in self.commands:
            self.add_command(command)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands:
            module_name = cmd_name.replace("-", "_")
            if module_name in _core_command_modules():
                self._load_core(module_name)
        if cmd_name not in self.commands:
            self.load_all()
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self.load_all()
        return super().list_commands(ctx)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except MedaugError as exc:
            if _debug(ctx):
                raise
            report_error(self._message(ctx, exc))
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            report_error("interrupted")
            ctx.exit(130)
        except Exception as exc:
            if _debug(ctx):
                raise
            report_error(describe_failure(exc))
            ctx.exit(1)

    def _message(self, ctx: click.Context, exc: MedaugError) -> str:
        """``exc``'s message; a config error names the command's flags, not its fields."""
        name = ctx.invoked_subcommand
        command = self.get_command(ctx, name) if name else None
        if not isinstance(exc, ConfigError) or command is None:
            return str(exc)
        flags = {
            p.name: p.opts[0]
            for p in command.params
            if isinstance(p, click.Option) and p.name and p.opts
        }
        return exc.naming(flags)


_COMMANDS_PACKAGE = "medaug.cli.commands"


def _core_command_modules() -> list[str]:
    """Module names of the core commands (each exposes ``command``), sorted."""
    from medaug.cli import commands

    return sorted(
        m.name for m in pkgutil.iter_modules(commands.__path__) if not m.name.startswith("_")
    )


def _debug(ctx: click.Context) -> bool:
    root = ctx.find_root()
    return bool(root.params.get("debug")) or os.environ.get("MEDAUG_DEBUG", "") not in ("", "0")


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    warn(str(message))


@click.group(
    cls=MedaugGroup, epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.version_option(__version__, "--version", prog_name="medaug")
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
def cli(debug: bool) -> None:
    """medaug: balance medical-imaging datasets with generative models.

    Train a generator (a GAN plugin) on each rare class, add synthetic images with
    provenance, and measure whether a classifier improves.
    """


def build_cli() -> click.Group:
    """The command group with every core and plugin command loaded."""
    cli.load_all()
    return cli


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point. Without ``argv`` (the ``medaug`` command, ``python -m
    medaug``) it ends the process once the command is done (:func:`_leave`); with
    ``argv`` it raises :class:`SystemExit` as click does."""
    prefer_passive_openmp_wait()  # before torch loads its OpenMP runtime
    warnings.simplefilter("default", PluginLoadWarning)
    previous = warnings.showwarning
    warnings.showwarning = _show_warning
    args = argv if argv is not None else sys.argv[1:]
    try:
        with launch_session(args):
            cli.main(args=args, prog_name="medaug")
    except SystemExit as exc:
        if argv is not None:
            raise
        _leave(exc.code)
    finally:
        warnings.showwarning = previous


def _leave(code: int | str | None) -> NoReturn:
    """End the process with the command's exit status, without finalizing the interpreter.

    Finalizing takes a second or more once torch is loaded, and Python restores the
    default Ctrl-C action before it: a Ctrl-C then killed the process without a word
    (status -2), or raised in an exit handler (a traceback, status 0). Every file is
    written and closed by now; a Ctrl-C while leaving is "interrupted", exit 130."""
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        signal.signal(signal.SIGINT, _interrupted_while_leaving)
    distributed.exit_process(code)


def _interrupted_while_leaving(signum: int, frame: Any) -> NoReturn:
    report_error("interrupted")
    distributed.exit_process(130)
