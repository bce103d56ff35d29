"""Named registries of plugin factories (generators, classifiers, readers).

Modelled on timm's ``create_model`` / ``list_models``: names are looked up exactly,
``list(pattern)`` takes fnmatch wildcards, ``None`` options are dropped so each
factory keeps its own defaults, and an unknown name lists what is available.

A factory is a callable or a ``"package.module:Attr"`` string (as in an entry point),
imported on first use: a plugin can register without importing torch, so listing
plugins stays fast. Options are checked against the factory's signature before it is
called: an unknown or missing option is one :class:`~medaug.errors.MedaugError` naming
the kind, the name, the plugin and the valid options. A factory taking ``**options``
receives every option and validates them itself.

Option groups: a named parameter of a factory annotated with a dataclass type (for
instance ``network: SimpleCNNOptions = SimpleCNNOptions()``) is no option itself; each of
the dataclass's init fields is one, listed and checked like a plain keyword parameter in
its place. :func:`factory_kwargs` gathers the options it names into that dataclass (on top
of the parameter's default when that is an instance of it) before the factory is called.
The annotation must resolve at run time (import the dataclass at module level, not only
under ``TYPE_CHECKING``); one that does not leaves the parameter a plain option.
"""

from __future__ import annotations

import dataclasses
import difflib
import fnmatch
import importlib
import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Generic, TypeVar

from medaug.errors import DuplicateNameError, MedaugError, UnknownNameError

T = TypeVar("T")

VARIANT_SEPARATOR = ":"
#: ``package.module:Attr`` (``Attr`` may be dotted: ``module:Class.build``)
FACTORY_REFERENCE = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")

_NAMED = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def _first_doc_line(obj: Any) -> str:
    doc = inspect.getdoc(obj) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def load_reference(reference: str) -> Any:
    """Import ``"package.module:Attr"`` and return ``Attr`` (errors propagate)."""
    module_name, _, attr = reference.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def _signature(factory: Callable[..., Any]) -> inspect.Signature | None:
    """``factory``'s signature with its annotations evaluated where they can be (else
    as written), or ``None`` when it cannot be read."""
    try:
        return inspect.signature(factory, eval_str=True)
    except Exception:  # unreadable, or an annotation that does not evaluate here
        pass
    try:
        return inspect.signature(factory)
    except (TypeError, ValueError):
        return None


def _group_type(param: inspect.Parameter) -> type[Any] | None:
    """The dataclass an option-group parameter gathers, or ``None`` for a plain one."""
    annotation = param.annotation
    if (
        param.kind in _NAMED
        and isinstance(annotation, type)
        and dataclasses.is_dataclass(annotation)
    ):
        return annotation
    return None


def option_groups(factory: Callable[..., Any]) -> dict[str, type[Any]]:
    """``factory``'s option-group parameters (named parameters annotated with a dataclass
    type) and their dataclasses; empty for a plain keyword signature."""
    signature = _signature(factory)
    if signature is None:
        return {}
    groups = {}
    for param in signature.parameters.values():
        group = _group_type(param)
        if group is not None:
            groups[param.name] = group
    return groups


def _group_fields(param: inspect.Parameter, group: type[Any]) -> list[inspect.Parameter]:
    """The options of an option-group parameter: its dataclass's init fields, as
    keyword-only parameters whose defaults come from the parameter's default instance
    (else from the fields)."""
    base = param.default if isinstance(param.default, group) else None
    out = []
    for field in dataclasses.fields(group):
        if not field.init:
            continue
        if base is not None:
            default = getattr(base, field.name)
        elif field.default is not dataclasses.MISSING:
            default = field.default
        elif field.default_factory is not dataclasses.MISSING:
            default = field.default_factory()
        else:
            default = inspect.Parameter.empty
        out.append(inspect.Parameter(field.name, inspect.Parameter.KEYWORD_ONLY, default=default))
    return out


def _parameters(factory: Callable[..., Any]) -> list[inspect.Parameter] | None:
    """``factory``'s options as parameters (each option group replaced in place by its
    fields), or ``None`` when its signature cannot be read."""
    signature = _signature(factory)
    if signature is None:
        return None
    params: list[inspect.Parameter] = []
    for param in signature.parameters.values():
        group = _group_type(param)
        params.extend([param] if group is None else _group_fields(param, group))
    names = [p.name for p in params]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise TypeError(
            f"{getattr(factory, '__qualname__', factory)!r}: option group fields repeat "
            f"option names {', '.join(map(repr, repeated))}"
        )
    return params


def factory_kwargs(factory: Callable[..., Any], options: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments to call ``factory`` with for ``options``: the options an
    option group names are gathered into its dataclass (applied to the parameter's
    default instance, if any); a group none of whose options is given is left out, so
    its default applies. Plain options pass through unchanged."""
    kwargs = dict(options)
    signature = _signature(factory)
    if signature is None:
        return kwargs
    for param in signature.parameters.values():
        group = _group_type(param)
        if group is None:
            continue
        names = [p.name for p in _group_fields(param, group)]
        given = {name: kwargs.pop(name) for name in names if name in kwargs}
        default: Any = param.default
        if not given and default is not inspect.Parameter.empty:
            continue
        kwargs[param.name] = (
            dataclasses.replace(default, **given) if isinstance(default, group) else group(**given)
        )
    return kwargs


def _unknown(
    params: list[inspect.Parameter], options: Mapping[str, Any], groups: Mapping[str, type[Any]]
) -> list[str]:
    """Options ``params`` cannot take; an option group's own name is never an option,
    even for a factory taking ``**options`` (it would bind to the group parameter)."""
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return [k for k in options if k in groups]
    names = {p.name for p in params if p.kind in _NAMED}
    return [k for k in options if k not in names]


def _valid(params: list[inspect.Parameter]) -> str:
    return ", ".join(p.name for p in params if p.kind in _NAMED and p.name != "variant") or "none"


def unknown_options(factory: Callable[..., Any], options: Mapping[str, Any]) -> list[str]:
    """The keys of ``options`` that ``factory``'s signature has no parameter for (none
    when it takes ``**options``, save an option group's name, or its signature cannot
    be read)."""
    params = _parameters(factory)
    return [] if params is None else _unknown(params, options, option_groups(factory))


def valid_options(factory: Callable[..., Any]) -> str:
    """The option names ``factory`` takes, comma-separated (``none`` when it takes none)."""
    params = _parameters(factory)
    return "unknown" if params is None else _valid(params)


def option_problem(factory: Callable[..., Any], options: Mapping[str, Any]) -> str | None:
    """Why ``factory(**options)`` cannot bind (unknown or missing options), or ``None``.

    Factories whose signature cannot be read, and unknown options of factories taking
    ``**options``, pass through: the factory validates them itself.
    """
    params = _parameters(factory)
    if params is None:
        return None
    unknown = _unknown(params, options, option_groups(factory))
    missing = [
        p.name
        for p in params
        if p.default is inspect.Parameter.empty
        and p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
        and (p.name not in options or p.kind is inspect.Parameter.POSITIONAL_ONLY)
    ]
    if not unknown and not missing:
        return None
    parts = []
    if unknown:
        parts.append(f"unknown option{'s' * (len(unknown) > 1)} {', '.join(map(repr, unknown))}")
    if missing:
        parts.append(f"missing option{'s' * (len(missing) > 1)} {', '.join(map(repr, missing))}")
    return f"{'; '.join(parts)}; valid options: {_valid(params)}"


@dataclass(frozen=True)
class Entry(Generic[T]):
    """One registered name.

    ``target`` is what the plugin registered: the factory itself or a
    ``"package.module:Attr"`` reference; :attr:`factory` resolves it on first use.
    """

    name: str
    kind: str
    target: Callable[..., T] | str
    plugin: str
    version: str
    given_description: str | None = None
    variants: bool = False

    @property
    def label(self) -> str:
        """``generator 'dcgan' (plugin 'dcgan')``: how messages name this entry."""
        return f"{self.kind} {self.name!r} (plugin {self.plugin!r})"

    @property
    def display_name(self) -> str:
        """``name`` or ``name:<variant>`` for families."""
        return f"{self.name}{VARIANT_SEPARATOR}<variant>" if self.variants else self.name

    @cached_property
    def factory(self) -> Callable[..., T]:
        """The factory, imported on first use when registered as a string."""
        if not isinstance(self.target, str):
            return self.target
        try:
            obj = load_reference(self.target)
        except Exception as exc:
            raise MedaugError(
                f"{self.label}: cannot load its factory {self.target!r} "
                f"({type(exc).__name__}: {exc})"
            ) from exc
        if not callable(obj):
            raise MedaugError(f"{self.label}: factory {self.target!r} is not callable")
        return obj

    @property
    def description(self) -> str:
        """The registered description, else the factory's first docstring line (which
        imports a string factory; give ``description=`` to keep listing lazy)."""
        if self.given_description is not None:
            return self.given_description
        try:
            return _first_doc_line(self.factory)
        except MedaugError:
            return ""

    def attribute(self, attr: str, default: Any = None) -> Any:
        """An attribute of the factory (``supported_sizes``, ``suffixes``...)."""
        return getattr(self.factory, attr, default)


class Registry(Generic[T]):
    """Factories of one kind, keyed by public name."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Entry[T]] = {}
        #: objects built once with no options (:meth:`shared`)
        self._shared: dict[str, T] = {}

    def add(
        self,
        name: str,
        factory: Callable[..., T] | str,
        *,
        plugin: str,
        version: str = "",
        description: str | None = None,
        variants: bool = False,
    ) -> Entry[T]:
        """Register ``factory`` (a callable or ``"module:Attr"``) under ``name``; a name
        taken twice is an error naming both plugins."""
        if (
            not isinstance(name, str)
            or not name
            or VARIANT_SEPARATOR in name
            or name != name.strip()
        ):
            raise ValueError(f"invalid {self.kind} name {name!r} (plugin {plugin!r})")
        if isinstance(factory, str):
            if not FACTORY_REFERENCE.match(factory):
                raise ValueError(
                    f"{self.kind} {name!r} (plugin {plugin!r}): invalid factory reference "
                    f"{factory!r}; expected 'package.module:Attr'"
                )
        elif not callable(factory):
            raise TypeError(
                f"{self.kind} {name!r} (plugin {plugin!r}): the factory must be callable "
                f"or a 'package.module:Attr' string, got {type(factory).__name__}"
            )
        if name in self._entries:
            other = self._entries[name].plugin
            raise DuplicateNameError(
                f"{self.kind} {name!r} is registered twice: by plugin {other!r} "
                f"and by plugin {plugin!r}"
            )
        entry: Entry[T] = Entry(
            name=name,
            kind=self.kind,
            target=factory,
            plugin=plugin,
            version=version,
            given_description=description,
            variants=variants,
        )
        self._entries[name] = entry
        return entry

    def __contains__(self, name: object) -> bool:
        try:
            self.get(str(name))
        except UnknownNameError:
            return False
        return True

    def __len__(self) -> int:
        return len(self._entries)

    def entries(self) -> list[Entry[T]]:
        """All entries, sorted by name."""
        return [self._entries[k] for k in sorted(self._entries)]

    def list(self, pattern: str = "*") -> list[str]:
        """Registered names matching the fnmatch ``pattern`` (case-insensitive), sorted."""
        pat = pattern.lower()
        return [
            e.display_name
            for e in self.entries()
            if fnmatch.fnmatch(e.name.lower(), pat) or fnmatch.fnmatch(e.display_name.lower(), pat)
        ]

    def split(self, name: str) -> tuple[Entry[T], str | None]:
        """Resolve ``name`` or ``family:variant`` to its entry and variant."""
        if name in self._entries and not self._entries[name].variants:
            return self._entries[name], None
        family, sep, variant = name.partition(VARIANT_SEPARATOR)
        entry = self._entries.get(family)
        if entry is not None and entry.variants:
            if not sep or not variant:
                raise UnknownNameError(
                    f"{self.kind} {family!r} needs a variant: use '{family}:<variant>'"
                )
            return entry, variant
        if entry is not None and sep:
            raise UnknownNameError(f"{self.kind} {family!r} takes no ':variant' suffix")
        raise UnknownNameError(self._unknown_message(name))

    def get(self, name: str) -> Entry[T]:
        """The entry for ``name`` (a variant name resolves to its family)."""
        return self.split(name)[0]

    def create(self, name: str, **options: Any) -> T:
        """Build the object registered as ``name``; ``None`` options are dropped.

        Options the factory's signature cannot take (or required ones left out) raise
        one :class:`MedaugError` listing the valid options, before the factory runs;
        options of an option group reach the factory gathered in its dataclass
        (:func:`factory_kwargs`).
        """
        entry, variant = self.split(name)
        kwargs = {k: v for k, v in options.items() if v is not None}
        if variant is not None:
            kwargs["variant"] = variant
        factory = entry.factory
        problem = option_problem(factory, kwargs)
        if problem is not None:
            raise MedaugError(f"{entry.label}: {problem}")
        return factory(**factory_kwargs(factory, kwargs))

    def shared(self, name: str) -> T:
        """The object ``name`` builds with no options, built on first use and kept with
        this registry (which is rebuilt when the registered plugins change): for plugins
        without state or options, looked up once per file (file formats)."""
        if name not in self._shared:
            self._shared[name] = self.create(name)
        return self._shared[name]

    def _unknown_message(self, name: str) -> str:
        available = [e.display_name for e in self.entries()]
        msg = f"unknown {self.kind} {name!r}"
        close = difflib.get_close_matches(name, [e.name for e in self.entries()], n=1)
        if close:
            msg += f" (did you mean {close[0]!r}?)"
        listing = ", ".join(available) if available else "none installed"
        return f"{msg}; available: {listing}"
