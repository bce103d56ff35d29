"""Helpers for the data tests: synthetic DICOM files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import (
    CTImageStorage,
    ExplicitVRLittleEndian,
    generate_uid,
)


def write_dicom(
    path: Path,
    pixels: np.ndarray | None,
    *,
    photometric: str = "MONOCHROME2",
    bits_stored: int | None = None,
    signed: bool = False,
    modality: str = "CT",
    sop_class: str = CTImageStorage,
    patient_id: str = "P1",
    extra: dict[str, object] | None = None,
) -> Path:
    """Write an uncompressed DICOM file; ``pixels`` (H, W) or (F, H, W) or None."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = sop_class
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


def gradient(size: int = 32, top: int = 4095, dtype: type = np.uint16) -> np.ndarray:
    """A left-to-right ramp from 0 to ``top``."""
    row = np.linspace(0, top, size).round().astype(dtype)
    return np.tile(row, (size, 1))


def write_labelled_dicoms(
    images: Path, labels_csv: Path, counts: dict[str, int], *, size: int = 16, seed: int = 0
) -> Path:
    """Write ``counts[class]`` flat DICOM files into ``images`` (one patient each, a
    brightness per class) and append ``patientId,class`` rows to ``labels_csv`` (RSNA
    shape; class names may hold '/'). Returns ``images``."""
    rng = np.random.default_rng(seed)
    new = not labels_csv.is_file()
    rows = ["patientId,class"] if new else []
    for ci, (cls, n) in enumerate(sorted(counts.items())):
        for i in range(n):
            pid = f"{images.name}-{ci}-{i}-{seed}"
            pixels = np.clip(rng.normal(60 + 120 * (ci % 2), 30, (size, size)), 0, 255)
            write_dicom(images / f"{pid}.dcm", pixels.astype(np.uint8), patient_id=pid)
            rows.append(f"{pid},{cls}")
    with labels_csv.open("a", encoding="utf-8") as fh:
        fh.write("\n".join(rows) + "\n")
    return images
