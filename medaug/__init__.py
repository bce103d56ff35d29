"""medaug: fix class imbalance in medical-imaging datasets with generative models.

The core knows no concrete GAN, CNN or file format: generators, classifiers and
dataset readers are plugins registered through the ``medaug`` entry-point group
(see :mod:`medaug.hookspecs`). First-party plugins use exactly the same path.

Typical library use::

    import medaug

    medaug.list_generators()            # ['dcgan', ...]
    gen = medaug.create_generator("dcgan", image_size=64, channels=1)
"""

from __future__ import annotations

__version__ = "0.1.0"

from medaug.errors import MedaugError
from medaug.hookspecs import hookimpl
from medaug.plugins import (
    create_classifier,
    create_generator,
    create_reader,
    get_plugin_manager,
    list_classifiers,
    list_generators,
    list_readers,
    registry,
)
from medaug.runtime import resolve_device, seed_everything

__all__ = [
    "MedaugError",
    "__version__",
    "create_classifier",
    "create_generator",
    "create_reader",
    "get_plugin_manager",
    "hookimpl",
    "list_classifiers",
    "list_generators",
    "list_readers",
    "registry",
    "resolve_device",
    "seed_everything",
]
