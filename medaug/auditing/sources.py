"""Where the audited images come from: one-class folders, or a ``balance`` output.

A one-class folder (``--real DIR``: plain images, DICOM files, sub-folders - all one
class) is read with the same readers, options and decode cache as every other command:
medaug shows the readers a class-folder view of it, a folder in the medaug cache holding
one symbolic link named after ``DIR`` that points to ``DIR``. Nothing is written into
``DIR``.

A balance output is read through its manifest: for every class that received synthetic
images, its synthetic rows are audited against its real rows (the generator's training
images).
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from medaug.auditing.images import ImageSet
from medaug.data.cache import cache_root, digest
from medaug.data.dataset import ImageDataset, load_dataset
from medaug.data.files import require_dir
from medaug.data.names import class_folder_name
from medaug.data.options import DataOptions
from medaug.errors import MedaugError

if TYPE_CHECKING:
    from medaug.output.layout import OutputLayout

VIEWS_DIR = "audit-views-v1"


def _record_id(path: Path, base: Path, frame: int) -> str:
    try:
        rel = path.relative_to(base).as_posix()
    except ValueError:
        rel = str(path)
    return f"{rel}#{frame}" if frame else rel


def _image_set(ds: ImageDataset, rows: np.ndarray, base: Path) -> ImageSet:
    return ImageSet(
        images=ds.to_tensor(rows),
        ids=tuple(_record_id(ds.records[i].path, base, ds.records[i].frame) for i in rows),
        groups=tuple(str(ds.records[i].patient_id) for i in rows),
    )


def _class_view(folder: Path, options: DataOptions) -> Path:
    """A folder (in the cache) whose one class folder is a link to ``folder``."""
    store = cache_root(options.cache_dir).expanduser()
    view = store / VIEWS_DIR / digest(str(folder))
    link = view / class_folder_name(folder.name or "images")
    if link.is_symlink() and Path(os.readlink(link)) == folder:
        return view
    view.mkdir(parents=True, exist_ok=True)
    for entry in view.iterdir():  # a stale view: at most one old link
        if entry.is_symlink():
            entry.unlink()
    tmp = view / f".tmp-{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    try:
        os.symlink(folder, tmp, target_is_directory=True)
        os.replace(tmp, link)
    except OSError as exc:
        raise MedaugError(
            f"cannot create the class view of {str(folder)!r} in {view}: {exc}"
        ) from exc
    return view


def load_folder(
    folder: Path | str,
    *,
    image_size: int,
    channels: int | str = "auto",
    options: DataOptions | None = None,
) -> tuple[ImageSet, int]:
    """Every image under ``folder`` as one class: ``(images, channels)``."""
    options = options or DataOptions()
    path = require_dir(folder)
    store = cache_root(options.cache_dir).expanduser().resolve()
    if store.is_relative_to(path):
        raise MedaugError(
            f"the cache folder {str(store)!r} is inside {str(path)!r}; "
            "medaug never writes into a dataset: choose another --cache-dir"
        )
    view = _class_view(path, options)
    ds = load_dataset(
        view, image_size=image_size, channels=channels, progress=False, options=options
    )
    base = require_dir(view) / class_folder_name(path.name or "images")
    return _image_set(ds, np.arange(len(ds)), base), ds.channels


@dataclass(frozen=True)
class OutputClass:
    """One grown class of a balance output."""

    name: str
    real: ImageSet
    synthetic: ImageSet


def read_run_settings(root: Path) -> dict[str, Any]:
    """``settings`` of a balance output's run record (image size, channels...)."""
    from medaug.output.runstate import load_state

    state = load_state(root)
    if state is None:
        raise MedaugError(f"{str(root)!r} is not a medaug balance output (no run record)")
    return dict(state.settings)


def find_output(root: Path | str) -> OutputLayout:
    """The layout of the balance output ``root``; raise when it is none."""
    from medaug.output.layout import OutputLayout

    layout = OutputLayout.find(Path(root).expanduser())
    if layout is None:
        raise MedaugError(
            f"{str(root)!r} is not a medaug balance output (expected .medaug-run.json and dataset/)"
        )
    return layout


def missing_files(root: Path | str) -> list[str]:
    """The files the manifest of the balance output ``root`` lists that are no longer on
    disk (as the manifest names them: relative to ``root``)."""
    from medaug.output.manifest import read_manifest

    layout = find_output(root)
    return [r.path for r in read_manifest(layout.manifest) if not (layout.root / r.path).exists()]


def load_output(
    root: Path | str,
    *,
    image_size: int | None = None,
    channels: int | str | None = None,
    options: DataOptions | None = None,
    classes: list[str] | None = None,
) -> tuple[list[OutputClass], ImageSet, int, int]:
    """The grown classes of the balance output ``root``, all of its real images (what a
    trained extractor learns from), the working size and the channels. ``image_size``
    and ``channels`` default to the run's own."""
    from medaug.output.manifest import read_manifest

    layout = find_output(root)
    settings = read_run_settings(layout.root)
    size = int(image_size or settings.get("image_size") or 64)
    chans = channels if channels is not None else settings.get("channels", "auto")
    rows = read_manifest(layout.manifest)
    if not rows:
        raise MedaugError(f"{layout.manifest} is missing or empty: the balance run is unfinished")
    source = {row.path: row for row in rows}
    options = options or DataOptions()
    ds = load_dataset(
        layout.dataset_root, image_size=size, channels=chans, progress=False, options=options
    )
    dataset_root = layout.dataset_root.resolve()
    kinds: list[tuple[str, str]] = []
    for rec in ds.records:
        rel = f"{layout.dataset_root.name}/{_record_id(rec.path, dataset_root, 0)}"
        row = source.get(rel)
        kinds.append((row.label, row.source) if row is not None else ("", ""))
    labels = np.array([k[0] for k in kinds], dtype=object)
    sources = np.array([k[1] for k in kinds], dtype=object)
    grown = sorted({row.label for row in rows if row.source == "synthetic"})
    if classes:
        unknown = sorted(set(classes) - set(grown))
        if unknown:
            raise MedaugError(
                f"no synthetic images of {', '.join(unknown)}; grown: {', '.join(grown) or 'none'}"
            )
        grown = [c for c in grown if c in classes]
    if not grown:
        raise MedaugError(f"{str(root)!r} holds no synthetic images to audit")
    out = []
    for name in grown:
        real_rows = np.flatnonzero((labels == name) & (sources == "real"))
        syn_rows = np.flatnonzero((labels == name) & (sources == "synthetic"))
        out.append(
            OutputClass(
                name=name,
                real=_image_set(ds, real_rows, dataset_root),
                synthetic=_image_set(ds, syn_rows, dataset_root),
            )
        )
    all_real = np.flatnonzero(sources == "real")
    return out, _image_set(ds, all_real, dataset_root), size, ds.channels


__all__ = [
    "OutputClass",
    "find_output",
    "load_folder",
    "load_output",
    "missing_files",
    "read_run_settings",
]
