"""Helpers the tests import (fixtures stay in conftest.py): tiny datasets on disk."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from medaug.testing import tree_hash, write_dicom

__all__ = ["gradient", "tree_hash", "write_dicom", "write_image_folder", "write_labelled_dicoms"]


def write_image_folder(
    root: Path,
    counts: dict[str, int],
    *,
    size: int = 24,
    mode: str = "L",
    ext: str = "png",
    seed: int = 0,
) -> Path:
    """Write ``counts[class]`` small random-but-structured images per class folder.

    Each class gets a different mean brightness so classifiers have something to learn.
    """
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    for ci, (cls, n) in enumerate(sorted(counts.items())):
        folder = root / cls
        folder.mkdir(parents=True, exist_ok=True)
        base = 60 + 120 * (ci % 2)
        for i in range(n):
            arr = np.clip(rng.normal(base, 30, size=(size, size)), 0, 255).astype(np.uint8)
            img = Image.fromarray(arr, mode="L").convert(mode)
            img.save(folder / f"patient{i // 2}_img{i}.{ext}")
    return root


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
