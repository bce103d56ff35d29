"""The reader contract: how a dataset on disk becomes labelled images.

A reader lists a dataset (:meth:`Reader.scan`) without decoding pixels, then decodes
one record at a time (:meth:`Reader.decode`) straight to the small working size, so
full-resolution frames are never all held in memory. Readers never write anything.

Optional parts a reader may provide:

- :meth:`Reader.can_read` (a classmethod) lets ``reader="auto"`` pick it: it returns a
  confidence in ``[0, 1]`` that the reader understands ``root`` with those options.
- :attr:`Reader.suffixes` and :meth:`Reader.probe` let another reader delegate single
  files to it (the folder reader hands ``.dcm`` files found in class folders to
  whichever registered reader claims ``.dcm``).

:func:`medaug.create_reader` returns a :class:`Reader` or raises
:class:`medaug.MedaugError` naming the plugin; :mod:`medaug.testing` checks the contract
(scan, decode shapes and dtypes for 1, 3 and ``None`` channels, nothing written).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

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
    #: reader-specific facts (original size, mode, bit depth, ...); JSON-serialisable
    #: values only, so that scans can be cached
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
    #: the registered name of the reader that made it (set by ``medaug.data``)
    reader: str = ""

    @property
    def classes(self) -> list[str]:
        """Sorted class names that have at least one record."""
        return sorted({r.label for r in self.records})

    def counts(self) -> dict[str, int]:
        """Records per class, in :attr:`classes` order."""
        out = dict.fromkeys(self.classes, 0)
        for r in self.records:
            out[r.label] += 1
        return out


class Reader(ABC):
    """Lists and decodes a dataset."""

    #: lower-case file suffixes (``".dcm"``) this reader can :meth:`probe` one by one
    suffixes: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def can_read(cls, root: Path, **options: Any) -> float:
        """Confidence in ``[0, 1]`` that this reader handles ``root`` with ``options``
        (used by ``reader="auto"``); 0 means never pick it automatically."""
        return 0.0

    @abstractmethod
    def scan(self, root: Path) -> Scan:
        """List the images under ``root`` with labels and patient ids; never decode pixels
        beyond what is needed to validate a file, never raise for one bad file (skip it
        with a reason). Raise :class:`medaug.MedaugError` when ``root`` is unusable."""

    @abstractmethod
    def decode(self, record: ImageRecord, *, image_size: int, channels: int | None) -> np.ndarray:
        """Decode ``record`` resized to ``image_size`` x ``image_size``: a ``uint8`` or
        ``uint16`` array of shape ``(C, H, W)``.

        ``channels`` 1 or 3 forces that many channels; ``None`` keeps the image's own:
        1 for grayscale (including RGB files whose three channels are equal), 3 for
        colour. Raise any exception for an unreadable record; callers skip it.
        """

    def probe(self, path: Path, *, label: str, patient_id: str) -> list[ImageRecord] | Skipped:
        """Records (one per frame) for a single file of a :attr:`suffixes` type, or why
        it is skipped. Only readers that declare :attr:`suffixes` implement this."""
        raise NotImplementedError(f"{type(self).__name__} cannot probe single files")

    def cache_token(self) -> str:
        """A string that changes whenever decode options change (part of the cache key)."""
        return type(self).__name__

    def scan_token(self) -> str:
        """A string that changes whenever scan options change (labels file, regex...)."""
        return self.cache_token()
