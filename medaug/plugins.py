"""Plugin discovery and the generator / classifier / reader registries.

Plugins come from the ``medaug`` entry-point group. First-party plugins (shipped in
the ``medaug`` distribution under ``plugins/``) are entry points too: there is no
other registration path. ``MEDAUG_DISABLE_PLUGIN_AUTOLOAD=1`` skips third-party entry
points; the builtins stay. A plugin that fails to import or to register produces one
:class:`~medaug.errors.PluginLoadWarning` naming it and the real error; everything
else keeps working.
"""

from __future__ import annotations

import importlib.metadata as importlib_metadata
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pluggy

from medaug import hookspecs
from medaug.errors import MedaugError, PluginLoadWarning
from medaug.registry import Registry

if TYPE_CHECKING:
    import click

ENTRYPOINT_GROUP = "medaug"
DISABLE_AUTOLOAD_ENV = "MEDAUG_DISABLE_PLUGIN_AUTOLOAD"
BUILTIN_DISTRIBUTION = "medaug"

KINDS: dict[str, str] = {
    "generator": "register_generators",
    "classifier": "register_classifiers",
    "reader": "register_readers",
    "feature_extractor": "register_feature_extractors",
}


@dataclass(frozen=True)
class PluginInfo:
    """Where a registered plugin came from."""

    name: str
    distribution: str
    version: str
    builtin: bool


def _autoload_disabled() -> bool:
    return os.environ.get(DISABLE_AUTOLOAD_ENV, "").strip().lower() not in ("", "0", "false", "no")


def _normalize(dist_name: str) -> str:
    return dist_name.lower().replace("_", "-").replace(".", "-")


def _warn(message: str) -> None:
    warnings.warn(message, PluginLoadWarning, stacklevel=3)


def _describe_error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


class PluginHost:
    """A pluggy manager plus the registries built from its hooks."""

    def __init__(self, *, autoload: bool = True) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self.pm.add_hookspecs(hookspecs)
        self.info: dict[str, PluginInfo] = {}
        self._registries: dict[str, Registry[Any]] | None = None
        if autoload:
            self.load_entrypoints()

    # -- loading ------------------------------------------------------------------------

    def _entrypoints(self) -> Iterator[importlib_metadata.EntryPoint]:
        seen: set[tuple[str, str]] = set()
        for ep in importlib_metadata.entry_points(group=ENTRYPOINT_GROUP):
            if (ep.name, ep.value) in seen:
                continue
            seen.add((ep.name, ep.value))
            yield ep

    def load_entrypoints(self) -> None:
        """Import and register every plugin of the ``medaug`` entry-point group."""
        disabled = _autoload_disabled()
        for ep in self._entrypoints():
            dist = ep.dist
            dist_name = dist.name if dist is not None else ""
            builtin = _normalize(dist_name) == BUILTIN_DISTRIBUTION
            if disabled and not builtin:
                continue
            if self.pm.has_plugin(ep.name) or self.pm.is_blocked(ep.name):
                continue
            try:
                plugin = ep.load()
            except Exception as exc:
                _warn(
                    f"plugin {ep.name!r} ({dist_name or 'unknown distribution'}) failed to "
                    f"load and was skipped: {_describe_error(exc)}"
                )
                continue
            self.register(
                plugin,
                name=ep.name,
                distribution=dist_name,
                version=dist.version if dist is not None else "",
                builtin=builtin,
            )

    def register(
        self,
        plugin: object,
        *,
        name: str | None = None,
        distribution: str = "",
        version: str = "",
        builtin: bool = False,
    ) -> str | None:
        """Register a plugin object or module (what tests and embedding apps use)."""
        try:
            registered = self.pm.register(plugin, name=name)
        except Exception as exc:
            _warn(f"plugin {name or plugin!r} could not be registered: {_describe_error(exc)}")
            return None
        if registered is None:
            return None
        self.info[registered] = PluginInfo(registered, distribution, version, builtin)
        self._registries = None
        return registered

    def unregister(self, name: str) -> None:
        """Remove a plugin by name; registries are rebuilt on next use."""
        self.pm.unregister(name=name)
        self.info.pop(name, None)
        self._registries = None

    # -- registries ----------------------------------------------------------------------

    def plugin_info(self, plugin_name: str) -> PluginInfo:
        return self.info.get(plugin_name, PluginInfo(plugin_name, "", "", False))

    def _ordered_impls(self, hook_name: str) -> list[Any]:
        impls = getattr(self.pm.hook, hook_name).get_hookimpls()
        # builtins first, then in registration order: the first to claim a name keeps it
        order = {n: i for i, n in enumerate(self.info)}
        return sorted(
            impls,
            key=lambda im: (
                not self.plugin_info(im.plugin_name).builtin,
                order.get(im.plugin_name, len(order)),
            ),
        )

    def _build(self, kind: str) -> Registry[Any]:
        registry: Registry[Any] = Registry(kind)
        for impl in self._ordered_impls(KINDS[kind]):
            pending: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

            def register(*args: Any, _pending: list[Any] = pending, **kwargs: Any) -> None:
                _pending.append((args, kwargs))

            info = self.plugin_info(impl.plugin_name)
            try:
                impl.function(**{a: register for a in impl.argnames})
            except Exception as exc:
                _warn(
                    f"plugin {impl.plugin_name!r} failed to register its {kind}s and was "
                    f"skipped: {_describe_error(exc)}"
                )
                continue
            for args, kwargs in pending:
                try:
                    registry.add(*args, plugin=impl.plugin_name, version=info.version, **kwargs)
                except (MedaugError, ValueError, TypeError) as exc:
                    _warn(f"plugin {impl.plugin_name!r}: {exc}")
        return registry

    def registry(self, kind: str) -> Registry[Any]:
        """The registry of ``kind`` ('generator', 'classifier' or 'reader')."""
        if kind not in KINDS:
            raise ValueError(f"unknown registry kind {kind!r}; expected one of {sorted(KINDS)}")
        if self._registries is None:
            self._registries = {}
        if kind not in self._registries:
            self._registries[kind] = self._build(kind)
        return self._registries[kind]

    def add_commands(self, cli: click.Group) -> None:
        """Let every plugin add its commands to ``cli``."""
        for impl in self._ordered_impls("register_commands"):
            try:
                impl.function(**{a: cli for a in impl.argnames})
            except Exception as exc:
                _warn(
                    f"plugin {impl.plugin_name!r} failed to add its commands: "
                    f"{_describe_error(exc)}"
                )


_host: PluginHost | None = None


def get_host() -> PluginHost:
    """The process-wide plugin host, loading entry points on first use."""
    global _host
    if _host is None:
        _host = PluginHost()
    return _host


def reset_host() -> None:
    """Forget the process-wide host; the next use reloads entry points."""
    global _host
    _host = None


def get_plugin_manager() -> pluggy.PluginManager:
    """The pluggy manager (to register a plugin object at run time)."""
    return get_host().pm


def registry(kind: str) -> Registry[Any]:
    """The registry of ``kind``: 'generator', 'classifier' or 'reader'."""
    return get_host().registry(kind)


def list_generators(pattern: str = "*") -> list[str]:
    """Registered generator names matching an fnmatch pattern."""
    return registry("generator").list(pattern)


def list_classifiers(pattern: str = "*") -> list[str]:
    """Registered classifier names matching an fnmatch pattern."""
    return registry("classifier").list(pattern)


def list_readers(pattern: str = "*") -> list[str]:
    """Registered reader names matching an fnmatch pattern."""
    return registry("reader").list(pattern)


def create_generator(name: str, **options: Any) -> Any:
    """Build the generator ``name`` (see :class:`medaug.contracts.generator.Generator`)."""
    return registry("generator").create(name, **options)


def create_classifier(name: str, **options: Any) -> Any:
    """Build the classifier network ``name`` (a :class:`torch.nn.Module`)."""
    return registry("classifier").create(name, **options)


def create_reader(name: str, **options: Any) -> Any:
    """Build the dataset reader ``name`` (see :class:`medaug.contracts.reader.Reader`)."""
    return registry("reader").create(name, **options)


def list_feature_extractors(pattern: str = "*") -> list[str]:
    """Registered feature-extractor names matching an fnmatch pattern."""
    return registry("feature_extractor").list(pattern)


def create_feature_extractor(name: str, **options: Any) -> Any:
    """Build the feature extractor ``name`` (see
    :class:`medaug.contracts.features.FeatureExtractor`)."""
    return registry("feature_extractor").create(name, **options)
