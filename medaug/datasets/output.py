"""Reading a ``medaug balance`` output folder: its run record, manifest and class folders.

The class order is ``torchvision.datasets.ImageFolder``'s (sorted sub-folders of
``OUT/dataset``, found by torchvision's own ``find_classes``) and the files are listed in
ImageFolder's order, so targets agree with ``ImageFolder(OUT/dataset)`` file for file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medaug.errors import MedaugError
from medaug.output.layout import OutputLayout
from medaug.output.manifest import ManifestRow, read_manifest


@dataclass(frozen=True)
class Entry:
    """One file of the balanced dataset."""

    row: ManifestRow
    file: Path
    target: int


@dataclass(frozen=True)
class BalanceOutput:
    """What a finished balance output holds."""

    root: Path
    dataset_root: Path
    record: dict[str, Any]
    classes: list[str]
    class_to_idx: dict[str, int]
    entries: list[Entry]

    @classmethod
    def open(cls, root: Path | str) -> BalanceOutput:
        """Read ``root`` (the ``--out`` folder of ``medaug balance``); a
        :class:`MedaugError` says what is wrong with it."""
        layout = OutputLayout(Path(root))
        _check_root(layout)
        record = _read_record(layout)
        dataset_root = _dataset_root(layout, record)
        classes, class_to_idx = _classes(dataset_root)
        entries = _entries(layout, dataset_root, class_to_idx)
        return cls(layout.root, dataset_root, record, classes, class_to_idx, entries)


def _check_root(layout: OutputLayout) -> None:
    root = layout.root
    if not root.is_dir():
        raise MedaugError(f"{root} is not a folder (expected a medaug balance output)")
    if layout.manifest.is_file():
        return
    parent = OutputLayout(root.parent)
    if root.name == layout.dataset_root.name and parent.manifest.is_file():
        raise MedaugError(f"{root} is the dataset folder of a balance output; pass {root.parent}")
    if layout.state.is_file():
        raise MedaugError(
            f"{root} holds an unfinished balance run (no {layout.manifest.name} yet); "
            "finish it with medaug balance --resume"
        )
    raise MedaugError(f"{root} is not a medaug balance output (no {layout.manifest.name})")


def _read_record(layout: OutputLayout) -> dict[str, Any]:
    """The run record, or ``{}`` when there is none (a manifest alone is enough)."""
    if not layout.state.is_file():
        return {}
    try:
        record = json.loads(layout.state.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise MedaugError(f"cannot read the run record {layout.state}: {exc}") from exc
    if not isinstance(record, dict):
        raise MedaugError(f"{layout.state} is not a medaug run record")
    if record.get("status", "complete") != "complete":
        raise MedaugError(
            f"{layout.root} holds an unfinished balance run; finish it with medaug balance --resume"
        )
    return record


def _dataset_root(layout: OutputLayout, record: dict[str, Any]) -> Path:
    """The record's ``dataset_root`` (relative to OUT when relative); ``OUT/dataset`` when
    the record names none or the output folder was moved since."""
    named = str(record.get("dataset_root") or "")
    if named:
        path = Path(named) if Path(named).is_absolute() else layout.root / named
        if path.is_dir() and path.resolve().is_relative_to(layout.root.resolve()):
            return layout.root / path.resolve().relative_to(layout.root.resolve())
    if not layout.dataset_root.is_dir():
        raise MedaugError(f"{layout.root} has no {layout.dataset_root.name}/ folder")
    return layout.dataset_root


def _classes(dataset_root: Path) -> tuple[list[str], dict[str, int]]:
    from torchvision.datasets.folder import find_classes

    try:
        return find_classes(str(dataset_root))
    except FileNotFoundError as exc:
        raise MedaugError(f"no class folders in {dataset_root}") from exc


def _entries(layout: OutputLayout, dataset_root: Path, class_to_idx: dict[str, int]) -> list[Entry]:
    rows = read_manifest(layout.manifest)
    if not rows:
        raise MedaugError(f"{layout.manifest} lists no files")
    entries: list[Entry] = []
    missing: list[Path] = []
    for row in rows:
        file = layout.root / row.path
        try:
            inside = file.relative_to(dataset_root)
        except ValueError:
            raise MedaugError(
                f"{layout.manifest.name} lists {row.path!r}, outside "
                f"{dataset_root.relative_to(layout.root).as_posix()}/ (an output of an older "
                "medaug? balance it again)"
            ) from None
        if len(inside.parts) < 2 or inside.parts[0] not in class_to_idx:
            raise MedaugError(f"{layout.manifest.name} lists {row.path!r}, not in a class folder")
        if not file.is_file():
            missing.append(file)
            continue
        entries.append(Entry(row, file, class_to_idx[inside.parts[0]]))
    if missing:
        raise MedaugError(
            f"{len(missing)} file(s) listed in {layout.manifest} are missing, e.g. {missing[0]}"
        )
    # ImageFolder's order: class by class, then sorted folders (os.walk), then sorted names
    entries.sort(key=lambda e: (e.target, str(e.file.parent), e.file.name))
    return entries


__all__ = ["BalanceOutput", "Entry"]
