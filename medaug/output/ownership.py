"""One ownership rule for every output folder, by fact rather than by file name.

medaug writes only into a folder that is new, empty, or marked as its own: the marker
``.medaug-output.json`` lists every top-level entry medaug wrote there (a folder it made
is its own with everything in it), and is rewritten atomically *before* each new entry
is written, so a killed run leaves a marker that covers all it wrote. Any other file
makes the folder foreign, and medaug refuses it without touching it. It also refuses an
output folder that is, contains or lies inside one of the command's inputs (links
resolved), one that lies inside a dataset medaug wrote (``generate``'s folder,
``balance``'s ``dataset/``), and a new one that would become a class of another dataset
(a folder holding two class folders of images) or go into one of its class folders.

Every command does the same::

    with claim_output(out, command="train", inputs=[data, val]) as folder:
        ...  # every write under ``out`` is recorded, through medaug.atomic or admit()

Under the claim the folder is locked (:func:`medaug.locking.folder_lock`: a second
command on it is refused as "in use"), medaug's stale temporary files in it are removed,
and a command that fails before writing anything leaves no new folder behind. Under
torchrun only rank 0 writes; the other ranks make the same checks and write nothing.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from medaug.atomic import (
    DEFAULT_RERUN,
    atomic_write_text,
    read_json_record,
    remove_stale_tmp,
    set_write_guard,
)
from medaug.errors import MedaugError

MARKER_NAME = ".medaug-output.json"
MARKER_KIND = "medaug-output"
MARKER_VERSION = 1
#: run records of outputs written before the marker existed: (command, its dataset)
LEGACY_MARKERS: dict[str, tuple[str, str]] = {
    ".medaug-run.json": ("balance", "dataset"),
    ".medaug-generate.json": ("generate", "."),
}
#: picture files: a folder holding only such files (two or more) is taken for a class
#: folder; DICOM files are not (DICOM data sets are mostly flat folders labelled by a CSV,
#: and two such folders side by side are no classes)
PICTURE_SUFFIXES = frozenset(
    {".png", ".jpg", ".jpeg", ".jpe", ".bmp", ".tif", ".tiff", ".gif", ".webp"}
)
#: entries looked at per folder when deciding whether it is a class folder
_SCAN_LIMIT = 2000


@dataclass
class Marker:
    """The content of a folder's ``.medaug-output.json``."""

    entries: set[str] = field(default_factory=set)
    commands: set[str] = field(default_factory=set)
    #: folders (relative, ``.`` for the folder itself) that are datasets medaug wrote
    datasets: set[str] = field(default_factory=set)

    def to_json(self) -> str:
        data = {
            "kind": MARKER_KIND,
            "version": MARKER_VERSION,
            "note": "written by medaug: the entries below are medaug's own",
            "commands": sorted(self.commands),
            "datasets": sorted(self.datasets),
            "entries": sorted(self.entries),
        }
        return json.dumps(data, indent=2) + "\n"


def read_marker(folder: Path) -> Marker | None:
    """The marker of ``folder`` (or what a legacy run record says), ``None`` if neither."""
    raw = read_json_record(folder / MARKER_NAME, kind=MARKER_KIND, what="a medaug marker")
    if raw is not None:
        return Marker(
            entries={str(e) for e in raw.get("entries", [])},
            commands={str(c) for c in raw.get("commands", [])},
            datasets={str(d) for d in raw.get("datasets", [])},
        )
    for name, (command, dataset) in LEGACY_MARKERS.items():
        if (folder / name).is_file():
            return Marker(_visible(folder), {command}, {dataset})
    return None


def _visible(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir() if not _ignored(p.name)}


def _ignored(name: str) -> bool:
    """Names no foreign-file check counts: the marker, medaug's temporary files, and
    hidden files that are not medaug's (``.DS_Store``: medaug never writes such names)."""
    return name == MARKER_NAME or (name.startswith(".") and not name.startswith(".medaug"))


class OutputFolder:
    """A claimed output folder: records each top-level entry before it is written."""

    def __init__(self, root: Path, command: str, marker: Marker, *, rerun: str) -> None:
        self.root = root
        self.real = root.resolve()
        self.command = command
        self.rerun = rerun
        self.marker = marker
        #: whether this claim recorded a new entry (a command that wrote nothing leaves none)
        self.wrote = False
        self._guard = threading.Lock()

    @property
    def entries(self) -> frozenset[str]:
        """Top-level names medaug wrote here (by any command)."""
        return frozenset(self.marker.entries)

    def top_name(self, path: Path | str) -> str | None:
        """The top-level entry ``path`` lies in, ``None`` when outside (or the root)."""
        text = os.path.abspath(path)
        for base in {str(self.root), str(self.real)}:
            if text.startswith(base + os.sep):
                return text[len(base) + 1 :].split(os.sep, 1)[0]
        return None

    def admit(self, path: Path | str) -> None:
        """Record the entry of ``path`` (call before writing it)."""
        name = self.top_name(path)
        if name is None or name == MARKER_NAME or name in self.marker.entries:
            return
        with self._guard:
            self.marker.entries.add(name)
            self.wrote = True
            self.save()

    def save(self) -> None:
        """Write the marker (atomically)."""
        atomic_write_text(self.root / MARKER_NAME, self.marker.to_json())


#: the folders claimed by this process, innermost last
_active: list[OutputFolder] = []


def _holding(path: Path) -> OutputFolder | None:
    """The innermost active claim whose folder is ``path`` or holds it."""
    for folder in reversed(_active):
        if folder.top_name(path) is not None or os.path.abspath(path) in (
            str(folder.root),
            str(folder.real),
        ):
            return folder
    return None


def admit(path: Path | str) -> None:
    """Record ``path`` with the active claim holding it (nothing when none does).
    :mod:`medaug.atomic` calls this for every file it writes (:class:`_Claims`)."""
    folder = _holding(Path(path))
    if folder is not None:
        folder.admit(path)


def rerun_hint(path: Path | str) -> str:
    """What to do after a write into ``path`` failed (its command's advice)."""
    folder = _holding(Path(path))
    return folder.rerun if folder is not None else DEFAULT_RERUN


class _Claims:
    """The write guard installed in :mod:`medaug.atomic`: every atomic write inside a
    claimed folder is recorded first, and a failed one gives its command's advice."""

    admit = staticmethod(admit)
    rerun_hint = staticmethod(rerun_hint)


set_write_guard(_Claims())


# -- the checks ------------------------------------------------------------------------


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _relation(out: Path, inp: Path) -> str | None:
    if _inside(out, inp):
        return "is inside"
    return "contains" if _inside(inp, out) else None


def _check_inputs(out: Path, real: Path, inputs: Iterable[Path | str], option: str) -> None:
    for given in inputs:
        inp = Path(given).expanduser().resolve()
        how = _relation(real, inp)
        if how is not None:
            raise MedaugError(
                f"{option} {out} {how} the input {given}: medaug never writes into what "
                "it reads; choose another folder"
            )


def _markers_above(real: Path) -> Iterator[tuple[Path, Marker]]:
    """``(folder, marker)`` of every proper ancestor of ``real`` that carries one."""
    for folder in real.parents:
        marker = read_marker(folder) if folder.is_dir() else None
        if marker is not None:
            yield folder, marker


def _check_medaug_datasets(out: Path, real: Path, command: str, option: str) -> None:
    """Refuse a folder in a dataset medaug wrote (generate's output, balance's dataset/)."""
    for folder, marker in _markers_above(real):
        for rel in marker.datasets:
            if _inside(real, (folder / rel).resolve()):
                raise MedaugError(
                    f"{option} {out} is inside the dataset {folder / rel} written by medaug "
                    f"{'/'.join(sorted(marker.commands))}: files there would read back as "
                    "images; choose another folder"
                )
    own = read_marker(real) if real.is_dir() else None
    if own is not None and "." in own.datasets and command not in own.commands:
        raise MedaugError(
            f"{option} {out} is a dataset written by medaug {'/'.join(sorted(own.commands))}: "
            "files there would read back as images; choose another folder"
        )


def _covered(real: Path) -> bool:
    """Whether ``real`` lies in an entry of an ancestor's marker (a folder medaug made)."""
    for folder, marker in _markers_above(real):
        if real.relative_to(folder).parts[0] in marker.entries:
            return True
    return False


def _owned(real: Path) -> bool:
    return (real.is_dir() and read_marker(real) is not None) or _covered(real)


def _class_folder(folder: Path) -> bool:
    """Whether ``folder`` holds picture files and nothing else (hidden files aside), at
    least two: a class folder (judged on its first entries)."""
    pictures = 0
    try:
        with os.scandir(folder) as it:
            for n, entry in enumerate(it):
                if n >= _SCAN_LIMIT:
                    break
                if entry.name.startswith("."):
                    continue
                if Path(entry.name).suffix.lower() not in PICTURE_SUFFIXES or entry.is_dir():
                    return False
                pictures += 1
    except OSError:
        return False
    return pictures >= 2


def _dataset_root(folder: Path) -> bool:
    """Whether ``folder`` holds two class folders medaug did not write."""
    if _owned(folder):
        return False
    try:
        subfolders = {p.resolve() for p in folder.iterdir() if p.is_dir()}
    except OSError:
        return False
    classes = 0
    for sub in sorted(subfolders)[:_SCAN_LIMIT]:
        if read_marker(sub) is None and _class_folder(sub):
            classes += 1
            if classes >= 2:
                return True
    return False


def _check_foreign_dataset(out: Path, real: Path, option: str) -> None:
    """A new folder must not become a class of a dataset medaug did not write, nor go
    into one of its class folders."""
    if real.is_dir() and _owned(real):
        return
    holder = next(p for p in real.parents if p.is_dir())
    in_class = _class_folder(holder) and _dataset_root(holder.parent)
    if _owned(holder) or not (in_class or _dataset_root(holder)):
        return
    raise MedaugError(
        f"{option} {out} would go into {holder}, part of a dataset (class folders of "
        "images medaug did not write): medaug never writes into a dataset; choose a folder "
        "outside it"
    )


def _foreign(root: Path, marker: Marker | None) -> list[str]:
    """Entries of ``root`` medaug did not write (empty folders and folders carrying
    their own marker are not counted)."""
    if not root.is_dir() or _covered(root.resolve()):
        return []
    listed = marker.entries if marker is not None else set()
    found = []
    for path in sorted(root.iterdir()):
        name = path.name
        if _ignored(name) or name in listed or name.startswith(".medaug-tmp-"):
            continue
        is_dir = path.is_dir() and not path.is_symlink()
        if is_dir and (read_marker(path) is not None or not _has_files(path)):
            continue
        found.append(name)
    return found


def _has_files(folder: Path) -> bool:
    return any(not p.is_dir() or p.is_symlink() for p in folder.rglob("*"))


def check_target(
    out: Path | str,
    *,
    command: str,
    inputs: Sequence[Path | str] = (),
    option: str = "--out",
) -> None:
    """Raise :class:`MedaugError` (one line) when ``command`` may not write into ``out``;
    read-only."""
    out = Path(out).expanduser().absolute()
    real = out.resolve()
    if out.exists() and not out.is_dir():
        raise MedaugError(f"{option} {out} exists and is not a folder")
    _check_inputs(out, real, inputs, option)
    _check_medaug_datasets(out, real, command, option)
    _check_foreign_dataset(out, real, option)
    foreign = _foreign(out, read_marker(out) if out.is_dir() else None)
    if foreign:
        more = ", ..." if len(foreign) > 3 else ""
        raise MedaugError(
            f"{option} {out} holds files medaug did not write ({', '.join(foreign[:3])}{more});"
            " medaug writes only into a new or empty folder or one it marked as its own: "
            "choose another folder"
        )


# -- the claim ------------------------------------------------------------------------


def _create(root: Path, option: str) -> list[Path]:
    """Create ``root`` (and missing parents); the folders made, outermost first."""
    made = [p for p in (*reversed(root.parents), root) if not p.exists()]
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MedaugError(f"cannot create the folder {option} {root}: {exc}") from exc
    return made


def _undo(root: Path, made: list[Path], folder: OutputFolder | None, fresh: bool) -> None:
    """After a failure that wrote nothing: remove the marker this claim added and every
    empty folder it (or the command) created; files are never deleted."""
    if folder is not None and folder.wrote:
        return
    if fresh:
        (root / MARKER_NAME).unlink(missing_ok=True)
    if not fresh or not root.is_dir():
        return
    for sub, _dirs, _files in sorted(os.walk(root), key=lambda w: -len(w[0])):
        if sub != str(root):
            _rmdir(Path(sub))
    for path in reversed(made):
        _rmdir(path)


def _rmdir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not empty: something else is there
        path.rmdir()


def _open(root: Path, command: str, datasets: Iterable[str], rerun: str) -> OutputFolder:
    """The folder under the lock: its marker (new, or read back), stale files removed."""
    marker = read_marker(root) or Marker()
    marker.commands.add(command)
    marker.datasets.update(datasets)
    folder = OutputFolder(root, command, marker, rerun=rerun)
    remove_stale_tmp(root, skip=lambda sub: (sub / MARKER_NAME).is_file())
    folder.save()
    return folder


@contextmanager
def claim_output(
    out: Path | str,
    *,
    command: str,
    inputs: Sequence[Path | str] = (),
    option: str = "--out",
    datasets: Sequence[str] = (),
    rerun: str = DEFAULT_RERUN,
) -> Iterator[OutputFolder]:
    """Check ``out`` (:func:`check_target`), create and lock it, and yield it; every file
    written under it while the block runs is recorded in its marker. ``datasets``: the
    folders (relative, ``.`` for ``out``) this command fills with images; ``rerun``: the
    advice after a failed write (a full disk). A claim inside a folder this process has
    already claimed is that claim. On failure before anything was written, the marker and
    the folders the claim created are removed."""
    root = Path(out).expanduser().absolute()
    outer = _holding(root)
    if outer is not None:
        yield outer
        return
    check_target(root, command=command, inputs=inputs, option=option)
    from medaug import distributed

    if not distributed.is_main():  # rank 0 writes; the others only check
        yield OutputFolder(root, command, read_marker(root) or Marker(), rerun=rerun)
        return
    yield from _claimed(root, command, datasets, rerun, option)


def _claimed(
    root: Path, command: str, datasets: Sequence[str], rerun: str, option: str
) -> Iterator[OutputFolder]:
    from medaug.locking import folder_lock

    made = _create(root, option)
    fresh = read_marker(root) is None
    folder: OutputFolder | None = None
    try:
        with folder_lock(root, what=f"{command} run"):
            folder = _open(root, command, datasets, rerun)
            _active.append(folder)
            try:
                yield folder
            finally:
                _active.remove(folder)
    except BaseException:
        _undo(root, made, folder, fresh)
        raise


__all__ = [
    "MARKER_NAME",
    "Marker",
    "OutputFolder",
    "admit",
    "check_target",
    "claim_output",
    "read_marker",
    "rerun_hint",
]
