"""Small files for contract checks and plugin tests: images, DICOM, a tree digest."""

from __future__ import annotations

import hashlib
from pathlib import Path

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


def write_dicom(
    path: Path,
    pixels: np.ndarray | None,
    *,
    photometric: str = "MONOCHROME2",
    bits_stored: int | None = None,
    signed: bool = False,
    modality: str = "CT",
    sop_class: str | None = None,
    patient_id: str = "P1",
    extra: dict[str, object] | None = None,
) -> Path:
    """Write an uncompressed DICOM file; ``pixels`` ``(H, W)``, ``(F, H, W)`` or ``None``.

    ``sop_class`` defaults to CT Image Storage; ``extra`` sets more attributes by keyword.
    """
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import UID, CTImageStorage, ExplicitVRLittleEndian, generate_uid

    sop = UID(sop_class) if sop_class else CTImageStorage
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = sop
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = modality
    ds.PatientID = patient_id
    if pixels is not None:
        frames = pixels.shape[0] if pixels.ndim == 3 else 1
        allocated = 8 if pixels.dtype.itemsize == 1 else 16
        ds.Rows, ds.Columns = pixels.shape[-2:]
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = photometric
        ds.BitsAllocated = allocated
        ds.BitsStored = bits_stored or allocated
        ds.HighBit = ds.BitsStored - 1
        ds.PixelRepresentation = 1 if signed else 0
        if frames > 1:
            ds.NumberOfFrames = frames
        ds.PixelData = np.ascontiguousarray(pixels).tobytes()
    for key, value in (extra or {}).items():
        setattr(ds, key, value)
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def write_dicom_level(path: Path, level: int, *, size: int = 20) -> Path:
    """A flat 16-bit DICOM image of brightness ``level`` (0-255, scaled by 16)."""
    pixels = np.full((size, size), level * 16, np.uint16)
    return write_dicom(path, pixels, patient_id=path.stem)
