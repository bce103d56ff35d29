"""medaug: fix class imbalance in medical-imaging datasets with generative models.

The core knows no concrete GAN, CNN or file format: generators, classifiers and
dataset readers are plugins registered through the ``medaug`` entry-point group
(see :mod:`medaug.hookspecs`). First-party plugins use exactly the same path.

Typical library use::

    import medaug

    medaug.list_generators()            # ['dcgan', ...]
    gen = medaug.create_generator("dcgan", image_size=64, channels=1)
    result = medaug.balance(medaug.BalanceConfig(data="chest_xray/train", out="balanced"))

``import medaug`` is cheap: the verbs (``balance``, ``train``, ``experiment``...) and
everything that needs torch are imported on first use (PEP 562), so ``medaug --help``
starts fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import medaug.offline  # noqa: F401  (first: before any library that phones home is imported)
from medaug._version import __version__
from medaug.errors import MedaugError
from medaug.hookspecs import hookimpl
from medaug.plugins import (
    create_classifier,
    create_feature_extractor,
    create_generator,
    create_reader,
    get_plugin_manager,
    list_classifiers,
    list_feature_extractors,
    list_generators,
    list_readers,
    registry,
)

#: public name -> (module, attribute), imported on first access
_LAZY: dict[str, tuple[str, str]] = {
    "BalanceConfig": ("medaug.balancing", "BalanceConfig"),
    "DataOptions": ("medaug.data.options", "DataOptions"),
    "ExperimentConfig": ("medaug.experiments", "ExperimentConfig"),
    "audit": ("medaug.auditing", "audit"),
    "balance": ("medaug.balancing", "balance"),
    "contracts": ("medaug.contracts", ""),
    "evaluate": ("medaug.training", "evaluate"),
    "experiment": ("medaug.experiments", "run_experiment"),
    "load_dataset": ("medaug.data", "load_dataset"),
    "resolve_device": ("medaug.runtime", "resolve_device"),
    "seed_everything": ("medaug.runtime", "seed_everything"),
    "train": ("medaug.training", "train"),
}

__all__ = [
    "BalanceConfig",
    "DataOptions",
    "ExperimentConfig",
    "MedaugError",
    "__version__",
    "audit",
    "balance",
    "create_classifier",
    "create_feature_extractor",
    "create_generator",
    "create_reader",
    "evaluate",
    "experiment",
    "get_plugin_manager",
    "hookimpl",
    "list_classifiers",
    "list_feature_extractors",
    "list_generators",
    "list_readers",
    "load_dataset",
    "registry",
    "resolve_device",
    "seed_everything",
    "train",
]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'medaug' has no attribute {name!r}")
    module_name, attr = _LAZY[name]
    module = importlib.import_module(module_name)
    value = getattr(module, attr) if attr else module
    globals()[name] = value  # resolved once; later lookups never reach __getattr__
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


if TYPE_CHECKING:
    from medaug import contracts as contracts
    from medaug.auditing import audit as audit
    from medaug.balancing import BalanceConfig as BalanceConfig
    from medaug.balancing import balance as balance
    from medaug.data import load_dataset as load_dataset
    from medaug.data.options import DataOptions as DataOptions
    from medaug.experiments import ExperimentConfig as ExperimentConfig
    from medaug.experiments import run_experiment as experiment
    from medaug.runtime import resolve_device as resolve_device
    from medaug.runtime import seed_everything as seed_everything
    from medaug.training import evaluate as evaluate
    from medaug.training import train as train
