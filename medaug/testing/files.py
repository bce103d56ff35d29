"""Small files for contract checks and plugin tests: images, DICOM, a tree digest."""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np


def tree_hash(root: Path) -> str:
    """A digest of every path, size and content under ``root`` (to prove nothing changed)."""
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        h.update(str(path.relative_to(root)).encode())
        if path.is_file():
            h.update(path.read_bytes())
    return h.hexdigest()


def write_image(path: Path, level: int, *, size: int = 20) -> Path:
    """A flat grayscale image of brightness ``level`` (0-255), in the format of the suffix."""
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((size, size), level, np.uint8), mode="L").save(path)
    return path


@dataclass(frozen=True)
class DicomSpec:
    """What :func:`write_dicom` writes besides the pixels and the patient id.

    The pixel encoding: ``photometric`` interpretation, ``bits_stored`` (default: all
    the bits allocated, 8 for ``uint8`` pixels, 16 otherwise), ``signed`` pixels. The
    header: ``modality``, ``sop_class`` (default CT Image Storage) and ``extra``
    attributes by keyword.
    """

    photometric: str = "MONOCHROME2"
    bits_stored: int | None = None
    signed: bool = False
    modality: str = "CT"
    sop_class: str | None = None
    extra: Mapping[str, object] = field(default_factory=dict)


def write_dicom(
    path: Path,
    pixels: np.ndarray | None,
    spec: DicomSpec | None = None,
    *,
    patient_id: str = "P1",
    **legacy: Any,
) -> Path:
    """Write an uncompressed DICOM file; ``pixels`` ``(H, W)``, ``(F, H, W)`` or ``None``.

    ``spec`` (a :class:`DicomSpec`, default ``DicomSpec()``: 8/16-bit unsigned
    MONOCHROME2 CT) says how. The keyword arguments ``write_dicom`` took before ``spec``
    (``photometric=``, ``bits_stored=``, ``signed=``, ``modality=``, ``sop_class=``,
    ``extra=``) still work, with a :class:`DeprecationWarning`.
    """
    spec = _with_keywords(spec or DicomSpec(), legacy) if legacy else spec or DicomSpec()
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import UID, CTImageStorage, ExplicitVRLittleEndian, generate_uid

    sop = UID(spec.sop_class) if spec.sop_class else CTImageStorage
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = sop
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = spec.modality
    ds.PatientID = patient_id
    if pixels is not None:
        frames = pixels.shape[0] if pixels.ndim == 3 else 1
        allocated = 8 if pixels.dtype.itemsize == 1 else 16
        ds.Rows, ds.Columns = pixels.shape[-2:]
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = spec.photometric
        ds.BitsAllocated = allocated
        ds.BitsStored = spec.bits_stored or allocated
        ds.HighBit = ds.BitsStored - 1
        ds.PixelRepresentation = 1 if spec.signed else 0
        if frames > 1:
            ds.NumberOfFrames = frames
        ds.PixelData = np.ascontiguousarray(pixels).tobytes()
    for key, value in spec.extra.items():
        setattr(ds, key, value)
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def _with_keywords(spec: DicomSpec, legacy: dict[str, Any]) -> DicomSpec:
    """``spec`` with the deprecated keyword arguments of :func:`write_dicom` applied."""
    unknown = sorted(set(legacy) - {f.name for f in fields(DicomSpec)})
    if unknown:
        raise TypeError(f"write_dicom() got an unexpected keyword argument {unknown[0]!r}")
    warnings.warn(
        f"write_dicom(): the keyword arguments {', '.join(legacy)} are deprecated; "
        "pass spec=medaug.testing.DicomSpec(...) instead",
        DeprecationWarning,
        stacklevel=3,
    )
    if legacy.get("extra") is None:  # the old default
        legacy = {k: v for k, v in legacy.items() if k != "extra"}
    return replace(spec, **legacy)


def write_dicom_level(path: Path, level: int, *, size: int = 20) -> Path:
    """A flat 16-bit DICOM image of brightness ``level`` (0-255, scaled by 16)."""
    pixels = np.full((size, size), level * 16, np.uint16)
    return write_dicom(path, pixels, patient_id=path.stem)
