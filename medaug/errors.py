"""Exceptions that the CLI turns into one-line messages instead of tracebacks."""

from __future__ import annotations

from collections.abc import Mapping


class MedaugError(Exception):
    """A problem the user can fix (bad input, bad option, missing file...).

    The CLI prints ``Error: <message>`` on stderr and exits with :attr:`exit_code`.
    """

    exit_code: int = 1


class ConfigError(MedaugError):
    """An invalid setting of a config; the message names the settings at fault.

    ``template`` writes each of ``fields`` as ``{field}``: the message names the config's
    fields (``epochs must be >= 1``), and :meth:`naming` renders it with other names (the
    CLI passes its flags: ``--epochs must be >= 1``).
    """

    def __init__(self, template: str, *fields: str) -> None:
        self.template = template
        self.fields = fields
        super().__init__(self.naming({}))

    def naming(self, names: Mapping[str, str]) -> str:
        """The message with each field written as ``names[field]`` (default: the field)."""
        text = self.template
        for name in self.fields:
            text = text.replace("{" + name + "}", names.get(name, name))
        return text


class UnknownNameError(MedaugError, KeyError):
    """An unknown generator, classifier or reader name."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class DuplicateNameError(MedaugError):
    """Two plugins registered the same name in one registry."""


class PluginLoadWarning(UserWarning):
    """A plugin failed to import or to register; the rest of medaug keeps working."""
