"""Datasets: reading folders and DICOM, the decode cache, patient-level splits.

Typical use::

    from medaug.data import load_dataset, patient_split

    ds = load_dataset("chest_xray/train", image_size=64)   # (N, C, 64, 64) uint8
    train_idx, val_idx = patient_split(ds, val_fraction=0.2, seed=0)
    x = ds.to_tensor(train_idx)                              # float32 in [-1, 1]

Readers are plugins (``register_readers``); ``reader="auto"`` picks one per folder.
"""

from __future__ import annotations

from medaug.contracts.reader import ImageRecord, Reader, Scan, Skipped
from medaug.data.cache import cache_root
from medaug.data.dataset import ImageDataset, load_dataset
from medaug.data.names import class_folder_name, class_folder_names, validate_class_name
from medaug.data.options import DataOptions, parse_channels
from medaug.data.patients import DEFAULT_PATIENT_REGEX, patient_from_name
from medaug.data.scan import scan_dataset
from medaug.data.select import resolve_reader
from medaug.data.split import patient_split, split_groups

__all__ = [
    "DEFAULT_PATIENT_REGEX",
    "DataOptions",
    "ImageDataset",
    "ImageRecord",
    "Reader",
    "Scan",
    "Skipped",
    "cache_root",
    "class_folder_name",
    "class_folder_names",
    "load_dataset",
    "parse_channels",
    "patient_from_name",
    "patient_split",
    "resolve_reader",
    "scan_dataset",
    "split_groups",
    "validate_class_name",
]
