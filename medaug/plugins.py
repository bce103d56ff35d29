"""Plugin discovery and the generator / classifier / reader registries.

Plugins come from the ``medaug`` entry-point group. First-party plugins (shipped in
the ``medaug`` distribution under ``plugins/``) are entry points too: there is no
other registration path, and they are loaded first: a third-party entry point that
takes a built-in's name (``dcgan``) is not loaded, with a warning naming both
distributions and modules. ``MEDAUG_DISABLE_PLUGIN_AUTOLOAD=1`` skips third-party entry
points; the builtins stay. A plugin that fails to import or to register produces one
:class:`~medaug.errors.PluginLoadWarning` naming it and the real error; everything
else keeps working. What a plugin prints while it is imported or its hooks run goes to
stderr, so that stdout stays what the command writes (``plugins --json``: pure JSON).

Hooks are called through pluggy, one plugin at a time (builtins first), so each
implementation receives only the arguments it names and every registered name is
attributed to its plugin. ``create_*`` return typed objects and turn bad options into
one :class:`~medaug.errors.MedaugError`.
"""

from __future__ import annotations

import contextlib
import importlib.metadata as importlib_metadata
import os
import sys
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, overload

import pluggy

from medaug import hookspecs
from medaug.errors import MedaugError, PluginLoadWarning
from medaug.registry import Entry, Registry, unknown_options, valid_options

if TYPE_CHECKING:
    import click
    from torch import nn

    from medaug.contracts.features import FeatureExtractor
    from medaug.contracts.fileformat import FileFormat
    from medaug.contracts.generator import Generator
    from medaug.contracts.reader import Reader

ENTRYPOINT_GROUP = "medaug"
DISABLE_AUTOLOAD_ENV = "MEDAUG_DISABLE_PLUGIN_AUTOLOAD"
BUILTIN_DISTRIBUTION = "medaug"

KINDS: dict[str, str] = {
    "generator": "register_generators",
    "classifier": "register_classifiers",
    "reader": "register_readers",
    "feature_extractor": "register_feature_extractors",
    "format": "register_formats",
}


@dataclass(frozen=True)
class PluginInfo:
    """Where a registered plugin came from."""

    name: str
    distribution: str
    version: str
    builtin: bool
    #: what the entry point loads (``medaug_dcgan``), when it came from one
    module: str = ""


def _is_builtin(ep: importlib_metadata.EntryPoint) -> bool:
    """Whether ``ep`` is one of medaug's own (first-party) plugins."""
    return ep.dist is not None and _normalize(ep.dist.name) == BUILTIN_DISTRIBUTION


def _autoload_disabled() -> bool:
    return os.environ.get(DISABLE_AUTOLOAD_ENV, "").strip().lower() not in ("", "0", "false", "no")


def _normalize(dist_name: str) -> str:
    return dist_name.lower().replace("_", "-").replace(".", "-")


def _warn(message: str) -> None:
    warnings.warn(message, PluginLoadWarning, stacklevel=3)


#: what a plugin may raise without taking medaug down: anything but Ctrl-C (a plugin that
#: calls sys.exit() at import or in a hook is isolated like any broken plugin)
_PLUGIN_ERRORS = (Exception, SystemExit, GeneratorExit)


def _describe_error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _plugin_output() -> contextlib.AbstractContextManager[object]:
    """While plugin code runs: what it prints goes to stderr, not to the command's stdout."""
    return contextlib.redirect_stdout(sys.stderr)


def _origin(distribution: str, module: str) -> str:
    return f"{distribution or 'unknown distribution'}, module {module or '?'}"


class PluginHost:
    """A pluggy manager plus the registries built from its hooks."""

    def __init__(self, *, autoload: bool = True) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self.pm.add_hookspecs(hookspecs)
        self.info: dict[str, PluginInfo] = {}
        self._registries: dict[str, Registry[Any]] | None = None
        #: the plugin objects the registries were built from
        self._built_for: frozenset[int] = frozenset()
        self._warned: set[tuple[str, str]] = set()
        if autoload:
            self.load_entrypoints()

    # -- loading ------------------------------------------------------------------------

    def _entrypoints(self) -> Iterator[importlib_metadata.EntryPoint]:
        """The entry points of the group, each once, medaug's own first."""
        seen: set[tuple[str, str]] = set()
        unique = []
        for ep in importlib_metadata.entry_points(group=ENTRYPOINT_GROUP):
            if (ep.name, ep.value) in seen:
                continue
            seen.add((ep.name, ep.value))
            unique.append(ep)
        yield from sorted(unique, key=lambda ep: not _is_builtin(ep))

    def _name_taken(self, ep: importlib_metadata.EntryPoint, dist_name: str) -> bool:
        """Whether ``ep``'s name is taken by a plugin already registered; a different
        plugin wanting it is warned about, naming both."""
        if not self.pm.has_plugin(ep.name) and not self.pm.is_blocked(ep.name):
            return False
        owner = self.plugin_info(ep.name)
        if (owner.distribution, owner.module) != (dist_name, ep.value):
            kind = "the built-in plugin" if owner.builtin else "the plugin"
            _warn(
                f"plugin entry point {ep.name!r} ({_origin(dist_name, ep.value)}) was not "
                f"loaded: {kind} {ep.name!r} ({_origin(owner.distribution, owner.module)}) "
                "has that name"
            )
        return True

    def load_entrypoints(self) -> None:
        """Import and register every plugin of the ``medaug`` entry-point group."""
        disabled = _autoload_disabled()
        for ep in self._entrypoints():
            dist = ep.dist
            dist_name = dist.name if dist is not None else ""
            builtin = _is_builtin(ep)
            if disabled and not builtin:
                continue
            if self._name_taken(ep, dist_name):
                continue
            try:
                with _plugin_output():
                    plugin = ep.load()
            except _PLUGIN_ERRORS as exc:
                _warn(
                    f"plugin {ep.name!r} ({dist_name or 'unknown distribution'}) failed to "
                    f"load and was skipped: {_describe_error(exc)}"
                )
                continue
            registered = self.register(
                plugin,
                name=ep.name,
                distribution=dist_name,
                version=dist.version if dist is not None else "",
                builtin=builtin,
            )
            if registered is not None:
                self.info[registered] = replace(self.info[registered], module=ep.value)

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
        except _PLUGIN_ERRORS as exc:
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

    def _ordered_plugins(self, hook_name: str) -> list[str]:
        """Names of the plugins implementing ``hook_name``: builtins first, then in
        registration order (the first to claim a name keeps it)."""
        impls = getattr(self.pm.hook, hook_name).get_hookimpls()
        order = {n: i for i, n in enumerate(self.info)}
        ordered = sorted(
            impls,
            key=lambda im: (
                not self.plugin_info(im.plugin_name).builtin,
                order.get(im.plugin_name, len(order)),
            ),
        )
        return [im.plugin_name for im in ordered]

    def call_each(
        self, hook_name: str, **kwargs: Any
    ) -> Iterator[tuple[str, BaseException | None]]:
        """Call ``hook_name`` once per implementing plugin, in :meth:`_ordered_plugins`
        order, through pluggy (which hands each implementation only the arguments it
        names). Yields ``(plugin name, exception or None)``: one plugin failing does not
        stop the others."""
        for plugin_name in self._ordered_plugins(hook_name):
            plugin = self.pm.get_plugin(plugin_name)
            if plugin is None:
                continue
            others = [p for p in self.pm.get_plugins() if p is not plugin]
            caller = self.pm.subset_hook_caller(hook_name, remove_plugins=others)
            try:
                with _plugin_output():
                    caller(**kwargs)
            except _PLUGIN_ERRORS as exc:
                yield plugin_name, exc
            else:
                yield plugin_name, None

    def _warn_once(self, key: tuple[str, str], message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            _warn(message)

    def _build(self, kind: str) -> Registry[Any]:
        registry: Registry[Any] = Registry(kind)
        pending: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

        def register(*args: Any, **kwargs: Any) -> None:
            pending.append((args, kwargs))

        for plugin_name, exc in self.call_each(KINDS[kind], register=register):
            calls = pending.copy()
            pending.clear()
            if exc is not None:
                self._warn_once(
                    (plugin_name, kind),
                    f"plugin {plugin_name!r} failed to register its {kind}s and was "
                    f"skipped: {_describe_error(exc)}",
                )
                continue
            version = self.plugin_info(plugin_name).version
            for args, kw in calls:
                try:
                    registry.add(*args, plugin=plugin_name, version=version, **kw)
                except (MedaugError, ValueError, TypeError) as err:
                    self._warn_once((plugin_name, str(err)), f"plugin {plugin_name!r}: {err}")
        return registry

    def registry(self, kind: str) -> Registry[Any]:
        """The registry of ``kind`` (one of :data:`KINDS`)."""
        if kind not in KINDS:
            raise ValueError(f"unknown registry kind {kind!r}; expected one of {sorted(KINDS)}")
        plugins = frozenset(map(id, self.pm.get_plugins()))
        if self._registries is None or plugins != self._built_for:
            # a plugin registered or removed on the pluggy manager itself
            # (``get_plugin_manager().register(...)``) counts as much as one through
            # :meth:`register`: the registries are rebuilt
            self._registries, self._built_for = {}, plugins
        if kind not in self._registries:
            self._registries[kind] = self._build(kind)
        return self._registries[kind]

    def add_commands(self, cli: click.Group) -> None:
        """Let every plugin add its commands to ``cli``."""
        for plugin_name, exc in self.call_each("register_commands", cli=cli):
            if exc is not None:
                self._warn_once(
                    (plugin_name, "commands"),
                    f"plugin {plugin_name!r} failed to add its commands: {_describe_error(exc)}",
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


@overload
def registry(kind: Literal["generator"]) -> Registry[Generator]: ...
@overload
def registry(kind: Literal["classifier"]) -> Registry[nn.Module]: ...
@overload
def registry(kind: Literal["reader"]) -> Registry[Reader]: ...
@overload
def registry(kind: Literal["feature_extractor"]) -> Registry[FeatureExtractor]: ...
@overload
def registry(kind: Literal["format"]) -> Registry[FileFormat]: ...
@overload
def registry(kind: str) -> Registry[Any]: ...
def registry(kind: str) -> Registry[Any]:
    """The registry of ``kind`` ('generator', 'classifier', 'reader', 'feature_extractor'
    or 'format'), typed by what its factories build."""
    return get_host().registry(kind)


def check_choice(
    kind: str, name: str, options: Mapping[str, Any] | None = None, *, field: str
) -> None:
    """Raise one :class:`MedaugError` that names the settings ``field`` when no ``kind``
    plugin is called ``name``, or when its factory has no parameter for one of
    ``options`` (values are the plugin's to check when it is built). Configs call this
    when they are built, so that a typo stops a run before anything trains."""
    reg = registry(kind)
    try:
        entry, _variant = reg.split(name)
    except MedaugError as exc:
        raise MedaugError(f"{field}: {exc}") from None
    unknown = unknown_options(entry.factory, options or {})
    if unknown:
        raise MedaugError(
            f"{field}_options: {entry.label} has no option "
            f"{', '.join(map(repr, unknown))}; valid options: {valid_options(entry.factory)}"
        )


def list_generators(pattern: str = "*") -> list[str]:
    """Registered generator names matching an fnmatch pattern."""
    return registry("generator").list(pattern)


def list_classifiers(pattern: str = "*") -> list[str]:
    """Registered classifier names matching an fnmatch pattern."""
    return registry("classifier").list(pattern)


def list_readers(pattern: str = "*") -> list[str]:
    """Registered reader names matching an fnmatch pattern."""
    return registry("reader").list(pattern)


def list_feature_extractors(pattern: str = "*") -> list[str]:
    """Registered feature-extractor names matching an fnmatch pattern."""
    return registry("feature_extractor").list(pattern)


def _typed(entry: Entry[Any], obj: object, expected: type, what: str) -> Any:
    """``obj`` if it is an ``expected``, else a MedaugError naming the plugin."""
    if not isinstance(obj, expected):
        raise MedaugError(f"{entry.label} built a {type(obj).__name__}, not {what}")
    return obj


def _check_size(entry: Entry[Any], sizes: Any, image_size: Any) -> None:
    if sizes and image_size is not None and image_size not in tuple(sizes):
        raise MedaugError(
            f"{entry.label} supports image sizes {', '.join(map(str, sizes))}; "
            f"got image_size={image_size}"
        )


def create_generator(name: str, **options: Any) -> Generator:
    """Build the generator ``name`` (a :class:`medaug.contracts.generator.Generator`).

    ``image_size`` is checked against the generator's ``supported_sizes`` before it is
    built; unknown or missing options are one :class:`MedaugError` listing valid ones.
    """
    from medaug.contracts.generator import Generator

    reg = registry("generator")
    entry = reg.get(name)
    _check_size(entry, entry.attribute("supported_sizes", ()), options.get("image_size"))
    gen = _typed(entry, reg.create(name, **options), Generator, "a medaug Generator")
    _check_size(entry, type(gen).supported_sizes, gen.image_size)
    return gen


def create_classifier(name: str, **options: Any) -> nn.Module:
    """Build the classifier network ``name`` (a :class:`torch.nn.Module`; see
    :class:`medaug.contracts.classifier.ClassifierFactory`)."""
    from torch import nn

    reg = registry("classifier")
    return _typed(reg.get(name), reg.create(name, **options), nn.Module, "a torch.nn.Module")


def create_reader(name: str, **options: Any) -> Reader:
    """Build the dataset reader ``name`` (a :class:`medaug.contracts.reader.Reader`)."""
    from medaug.contracts.reader import Reader

    reg = registry("reader")
    return _typed(reg.get(name), reg.create(name, **options), Reader, "a medaug Reader")


def create_feature_extractor(name: str, **options: Any) -> FeatureExtractor:
    """Build the feature extractor ``name`` (a
    :class:`medaug.contracts.features.FeatureExtractor`)."""
    from medaug.contracts.features import FeatureExtractor

    reg = registry("feature_extractor")
    return _typed(
        reg.get(name), reg.create(name, **options), FeatureExtractor, "a FeatureExtractor"
    )


def file_format(name: str) -> FileFormat:
    """The file format ``name`` (a :class:`medaug.contracts.fileformat.FileFormat`): how
    synthetic images of data read by the reader reporting ``name`` are written."""
    from medaug.contracts.fileformat import FileFormat

    reg = registry("format")
    return _typed(reg.get(name), reg.shared(name), FileFormat, "a medaug FileFormat")


def format_of(path: Path) -> FileFormat:
    """The registered format that claims ``path`` (DICOM by its suffix or magic...), else
    the ``png`` one, which reads any image Pillow opens."""
    for entry in registry("format").entries():
        fmt = file_format(entry.name)
        if fmt.claims(path):
            return fmt
    return file_format("png")
