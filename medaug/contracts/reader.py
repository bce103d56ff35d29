"""The reader contract: how a dataset on disk becomes labelled images.

A reader lists a dataset (:meth:`Reader.scan`) without decoding pixels, then decodes
one record at a time (:meth:`Reader.decode`) straight to the small working size, so
full-resolution frames are never all held in memory. Readers never write anything.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True)
class ImageRecord:
    """One image of the dataset (one frame of a file)."""

    path: Path
    label: str
    patient_id: str
    #: frame index for multi-frame files, else 0
    frame: int = 0
    #: file format family, e.g. ``"image"`` or ``"dicom"`` (decides the output format)
    format: str = "image"
    #: reader-specific facts (original size, mode, bit depth, ...)
    meta: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Skipped:
    """A file that was not used, with a reason a person can act on."""

    path: Path
    reason: str


@dataclass
class Scan:
    """The result of listing a dataset."""

    root: Path
    records: list[ImageRecord]
    skipped: list[Skipped]


class Reader(ABC):
    """Lists and decodes a dataset."""

    @abstractmethod
    def scan(self, root: Path) -> Scan:
        """List the images under ``root`` with labels and patient ids; never decode pixels
        beyond what is needed to validate a file, never raise for one bad file (skip it
        with a reason). Raise :class:`medaug.MedaugError` when ``root`` is unusable."""

    @abstractmethod
    def decode(self, record: ImageRecord, *, image_size: int, channels: int) -> np.ndarray:
        """Decode ``record`` resized to ``image_size`` x ``image_size`` with ``channels``
        channels: a ``uint8`` or ``uint16`` array of shape ``(channels, H, W)``."""

    def cache_token(self) -> str:
        """A string that changes whenever decode options change (part of the cache key)."""
        return type(self).__name__
