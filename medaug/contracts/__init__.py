"""Typed contracts between the medaug core and its plugins.

- :mod:`medaug.contracts.generator`: what a generator plugin (a GAN...) must do.
- :mod:`medaug.contracts.classifier`: what a classifier plugin (a CNN...) must build.
- :mod:`medaug.contracts.reader`: what a dataset reader plugin must provide.
"""

from medaug.contracts.classifier import ClassifierFactory
from medaug.contracts.generator import FitCallback, Generator
from medaug.contracts.reader import ImageRecord, Reader, Scan, Skipped

__all__ = [
    "ClassifierFactory",
    "FitCallback",
    "Generator",
    "ImageRecord",
    "Reader",
    "Scan",
    "Skipped",
]
