"""medaug's plugin contract checks, shipped for plugins' own test suites.

As scikit-learn's ``parametrize_with_checks`` does for estimators, a third-party plugin
runs the same checks medaug runs on its first-party plugins::

    # tests/test_contract.py of a generator plugin
    from medaug.testing import parametrize_with_checks

    @parametrize_with_checks("generator", ["wgan-gp"], width=8, nz=8)
    def test_medaug_contract(check):
        check()

Each check is a :class:`Check`: a named callable that raises :class:`AssertionError`
when the plugin breaks the contract (shapes, ranges, determinism, bit-exact resume,
``weights_only`` state, option round trip, clear option errors...) and
:class:`unittest.SkipTest` when it does not apply. Without pytest, iterate
``generator_checks(name)`` / ``classifier_checks(name)`` / ``reader_checks(name)`` /
``extractor_checks(name)``
and call each. The plugin must be installed (discoverable through its entry point).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from medaug.testing.check import Check
from medaug.testing.files import DicomSpec, tree_hash, write_dicom, write_image

if TYPE_CHECKING:
    from _pytest.mark import MarkDecorator

    from medaug.testing.classifiers import classifier_checks as classifier_checks
    from medaug.testing.extractors import extractor_checks as extractor_checks
    from medaug.testing.generators import generator_checks as generator_checks
    from medaug.testing.readers import reader_checks as reader_checks

#: kind -> (module, function yielding the checks of one name)
_KINDS: dict[str, tuple[str, str]] = {
    "generator": ("medaug.testing.generators", "generator_checks"),
    "classifier": ("medaug.testing.classifiers", "classifier_checks"),
    "reader": ("medaug.testing.readers", "reader_checks"),
    "feature_extractor": ("medaug.testing.extractors", "extractor_checks"),
}
_LAZY = {func: module for module, func in _KINDS.values()}

__all__ = [
    "Check",
    "DicomSpec",
    "checks",
    "classifier_checks",
    "extractor_checks",
    "generator_checks",
    "parametrize_with_checks",
    "reader_checks",
    "tree_hash",
    "write_dicom",
    "write_image",
]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'medaug.testing' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def checks(kind: str, name: str, **options: Any) -> Iterator[Check]:
    """The contract checks of the ``kind`` plugin registered as ``name``."""
    if kind not in _KINDS:
        raise ValueError(f"unknown plugin kind {kind!r}; expected one of {', '.join(_KINDS)}")
    module, func = _KINDS[kind]
    yield from getattr(importlib.import_module(module), func)(name, **options)


def parametrize_with_checks(kind: str, names: Iterable[str], **options: Any) -> MarkDecorator:
    """A ``pytest.mark.parametrize("check", ...)`` over every check of every name, with
    ids such as ``dcgan-resume_is_exact``. ``options`` go to every factory call."""
    import pytest

    found = [check for name in names for check in checks(kind, name, **options)]
    params = [pytest.param(check, id=check.id) for check in found]
    return pytest.mark.parametrize("check", params)
