"""Datasets: reading folders and DICOM, the decode cache, patient-level splits.

Typical use::

    from medaug.data import load_dataset, patient_split

    ds = load_dataset("chest_xray/train", image_size=64)   # (N, C, 64, 64) uint8
    train_idx, val_idx = patient_split(ds, val_fraction=0.2, seed=0)
    x = ds.to_tensor(train_idx)                              # float32 in [-1, 1]

Readers are plugins (``register_readers``); ``reader="auto"`` picks one per folder.
The package imports its modules lazily, so ``medaug --help`` does not pay for torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from medaug.lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "DEFAULT_PATIENT_REGEX": "medaug.data.patients",
    "DataOptions": "medaug.data.options",
    "ImageDataset": "medaug.data.dataset",
    "ImageRecord": "medaug.contracts.reader",
    "Reader": "medaug.contracts.reader",
    "Scan": "medaug.contracts.reader",
    "Skipped": "medaug.contracts.reader",
    "cache_root": "medaug.data.cache",
    "class_folder_name": "medaug.data.names",
    "class_folder_names": "medaug.data.names",
    "load_dataset": "medaug.data.dataset",
    "parse_channels": "medaug.data.options",
    "patient_from_name": "medaug.data.patients",
    "patient_split": "medaug.data.split",
    "resolve_reader": "medaug.data.select",
    "scan_dataset": "medaug.data.scan",
    "split_groups": "medaug.data.split",
    "validate_class_name": "medaug.data.names",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_exports(__name__, _EXPORTS, globals())


if TYPE_CHECKING:
    from medaug.contracts.reader import ImageRecord as ImageRecord
    from medaug.contracts.reader import Reader as Reader
    from medaug.contracts.reader import Scan as Scan
    from medaug.contracts.reader import Skipped as Skipped
    from medaug.data.cache import cache_root as cache_root
    from medaug.data.dataset import ImageDataset as ImageDataset
    from medaug.data.dataset import load_dataset as load_dataset
    from medaug.data.names import class_folder_name as class_folder_name
    from medaug.data.names import class_folder_names as class_folder_names
    from medaug.data.names import validate_class_name as validate_class_name
    from medaug.data.options import DataOptions as DataOptions
    from medaug.data.options import parse_channels as parse_channels
    from medaug.data.patients import DEFAULT_PATIENT_REGEX as DEFAULT_PATIENT_REGEX
    from medaug.data.patients import patient_from_name as patient_from_name
    from medaug.data.scan import scan_dataset as scan_dataset
    from medaug.data.select import resolve_reader as resolve_reader
    from medaug.data.split import patient_split as patient_split
    from medaug.data.split import split_groups as split_groups
