"""The file-format contract: how synthetic images are written and output files read.

medaug's core names no file format. ``balance`` and ``generate`` write each synthetic
image through the format the training data came in (``png`` for image folders,
``dicom`` for DICOM data); :class:`medaug.datasets.BalancedFolder` and the balance report
read output files back through the format that claims them. A plugin provides one by
registering a factory (called with no argument)::

    @medaug.hookimpl
    def register_formats(register):
        register("dicom", "medaug_dicom.output:DicomFormat")

Rules the core relies on:

- :meth:`FileFormat.write` takes ``(C, H, W)`` ``uint8`` or ``uint16`` pixels (C = 1 or
  3), writes one file atomically (:func:`medaug.atomic.atomic_path`), records the
  provenance it is given in the file, and copies nothing from any training file;
- :meth:`FileFormat.read_unit` gives a file back as float32 ``(C, H, W)`` in ``[0, 1]``
  at its own size; a file this format wrote reads back as ``stored / (2**bits - 1)``,
  exactly the generator's output at the written bit depth;
- :meth:`FileFormat.copy_deidentified` copies a *real* file of this format without the
  patient's identity (``--link copy-deidentified``); formats that carry none copy it.
"""

from __future__ import annotations

import shutil
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np


@dataclass
class Series:
    """What the synthetic images of one class share in one output: the class, a study
    and a series identity (DICOM UIDs; formats without such identities ignore them),
    the series number and description. A resumed run keeps the UIDs it started with."""

    class_name: str
    study_uid: str
    series_uid: str
    series_number: int = 1
    description: str = ""
    extra: dict[str, str] = field(default_factory=dict)


class FileFormat(ABC):
    """Writes synthetic images in one file format and reads such files back."""

    #: the suffix of the files :meth:`write` makes (``".png"``, ``".dcm"``)
    suffix: ClassVar[str]

    def claims(self, path: Path) -> bool:
        """Whether :meth:`read_unit` reads ``path`` (by default: by its suffix)."""
        return path.suffix.lower() == self.suffix

    @abstractmethod
    def write(
        self,
        path: Path,
        pixels: np.ndarray,
        *,
        series: Series,
        instance_number: int,
        provenance: Mapping[str, str],
        bit_depth: int,
    ) -> None:
        """Write one synthetic image ``pixels`` ``(C, H, W)`` to ``path``, atomically."""

    @abstractmethod
    def read_unit(self, path: Path) -> np.ndarray:
        """``path`` as float32 ``(C, H, W)`` in ``[0, 1]``, C = 1 or 3."""

    def copy_deidentified(self, src: Path, dst: Path) -> None:
        """Copy the real file ``src`` to ``dst`` without patient identity (this default:
        unchanged, for formats that carry none)."""
        shutil.copy2(src, dst)


__all__ = ["FileFormat", "Series"]
