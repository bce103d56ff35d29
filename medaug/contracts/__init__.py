"""Typed contracts between the medaug core and its plugins.

- :mod:`medaug.contracts.generator`: what a generator plugin (a GAN...) must do.
- :mod:`medaug.contracts.classifier`: what a classifier plugin (a CNN...) must build.
- :mod:`medaug.contracts.reader`: what a dataset reader plugin must provide.
- :mod:`medaug.contracts.features`: what a feature-extractor plugin (for the audit) must do.
- :mod:`medaug.contracts.fileformat`: how a file-format plugin writes synthetic images and
  reads output files back.

:mod:`medaug.testing` ships checks of these contracts for a plugin's own test suite.
Names are imported on first use, so the reader contract does not pull in torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from medaug.lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "ClassifierFactory": "classifier",
    "FeatureExtractor": "features",
    "FileFormat": "fileformat",
    "FitCallback": "generator",
    "Generator": "generator",
    "ImageRecord": "reader",
    "Reader": "reader",
    "Scan": "reader",
    "Series": "fileformat",
    "Skipped": "reader",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_exports(__name__, _EXPORTS, globals())


if TYPE_CHECKING:
    from medaug.contracts.classifier import ClassifierFactory as ClassifierFactory
    from medaug.contracts.features import FeatureExtractor as FeatureExtractor
    from medaug.contracts.fileformat import FileFormat as FileFormat
    from medaug.contracts.fileformat import Series as Series
    from medaug.contracts.generator import FitCallback as FitCallback
    from medaug.contracts.generator import Generator as Generator
    from medaug.contracts.reader import ImageRecord as ImageRecord
    from medaug.contracts.reader import Reader as Reader
    from medaug.contracts.reader import Scan as Scan
    from medaug.contracts.reader import Skipped as Skipped
