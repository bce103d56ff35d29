"""Exceptions that the CLI turns into one-line messages instead of tracebacks."""

from __future__ import annotations


class MedaugError(Exception):
    """A problem the user can fix (bad input, bad option, missing file...).

    The CLI prints ``Error: <message>`` on stderr and exits with :attr:`exit_code`.
    """

    exit_code: int = 1


class UnknownNameError(MedaugError, KeyError):
    """An unknown generator, classifier or reader name."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class DuplicateNameError(MedaugError):
    """Two plugins registered the same name in one registry."""


class PluginLoadWarning(UserWarning):
    """A plugin failed to import or to register; the rest of medaug keeps working."""
