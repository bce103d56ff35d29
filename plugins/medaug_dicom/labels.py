"""Labels from a CSV file: one row per file or per id (``patientId,class`` for RSNA).

The key column holds a file path, a file name, a stem or an id (PatientID,
StudyInstanceUID or SOPInstanceUID); the label column the class. Both are auto-detected
from common names unless given. Several rows for one key (RSNA has one per box) must
agree.

A file takes a label only from a key that names it unambiguously (:class:`LabelMatcher`):

1. its path relative to the dataset root (``/`` or ``\\`` separators, ``./`` and
   ``x/../`` normalised; an absolute path inside the dataset counts too);
2. else its file name or stem, when no other file of the dataset has that name or stem
   (``a.dcm`` in two folders, from two sites, is labelled by neither);
3. else its SOPInstanceUID, StudyInstanceUID or PatientID (every file of that study or
   patient).

A path key never falls back to its bare name: ``../x/a.dcm`` labels no file of a
dataset whose ``a.dcm`` is elsewhere. Files without a label, ambiguous names, keys
that match no file and rows without an id or a label are reported, never guessed.
"""

from __future__ import annotations

import csv
import os
import posixpath
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from medaug.data.names import validate_class_name
from medaug.errors import MedaugError

KEY_COLUMNS = (
    "patientId",
    "patient_id",
    "PatientID",
    "file",
    "filename",
    "file_name",
    "path",
    "image",
    "image_id",
    "imageId",
    "id",
    "StudyInstanceUID",
    "SOPInstanceUID",
)
LABEL_COLUMNS = ("class", "label", "target", "diagnosis", "Finding Labels", "category")
#: DICOM attributes a bare key is compared with, most specific first
ID_ATTRIBUTES = ("SOPInstanceUID", "StudyInstanceUID", "PatientID")
#: how many examples a report of unused keys or rows quotes
EXAMPLES = 3


def _pick(
    header: list[str], wanted: str | None, candidates: tuple[str, ...], what: str, csv_path: Path
) -> str:
    if wanted is not None:
        if wanted in header:
            return wanted
        raise MedaugError(
            f"labels file {csv_path.name!r} has no {what} column {wanted!r}; "
            f"columns: {', '.join(header)}"
        )
    lower = {h.lower(): h for h in header}
    for cand in candidates:
        if cand.lower() in lower:
            return lower[cand.lower()]
    option = "--id-column" if what == "id" else "--label-column"
    raise MedaugError(
        f"cannot tell the {what} column of {csv_path.name!r} (columns: {', '.join(header)}); "
        f"name it with {option}"
    )


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def is_path_key(key: str) -> bool:
    """A key holding a folder separator (or absolute) is a path, never a bare name."""
    return "/" in key or "\\" in key


def normalise_path(key: str) -> str:
    """``key`` as a POSIX path: ``\\`` -> ``/``, ``./`` and ``x/../`` collapsed, NFC."""
    text = _nfc(key.strip().replace("\\", "/"))
    return posixpath.normpath(text)


def _examples(items: Iterable[str]) -> str:
    items = list(items)
    shown = ", ".join(repr(i) for i in items[:EXAMPLES])
    return shown + (f" and {len(items) - EXAMPLES} more" if len(items) > EXAMPLES else "")


@dataclass(frozen=True)
class CsvLabels:
    """The rows of a labels CSV: path keys and bare keys (names, stems, ids) apart."""

    path: Path
    key_column: str
    label_column: str
    #: normalised path keys (a separator in the key, or absolute) -> label
    paths: Mapping[str, str]
    #: bare keys (a file name, a stem or an id) -> label
    bare: Mapping[str, str]
    #: rows not used: ``"line N has no id"``...
    unused_rows: tuple[str, ...] = ()

    def matcher(self, root: Path, files: Iterable[Path]) -> LabelMatcher:
        """A :class:`LabelMatcher` for the dataset at ``root`` holding ``files``."""
        return LabelMatcher(self, root, files)


class LabelMatcher:
    """Labels the files of one dataset from a :class:`CsvLabels`; remembers which keys
    were used, so that keys matching no file can be reported."""

    def __init__(self, labels: CsvLabels, root: Path, files: Iterable[Path]) -> None:
        self.labels = labels
        self.root = root
        self._prefix = str(root).rstrip("/") + "/"
        self._paths = self._rooted(labels.paths)
        self._names: Counter[str] = Counter()
        for path in files:
            self._names.update({_nfc(path.name), _nfc(path.stem)})
        self._used: set[str] = set()

    def _rooted(self, paths: Mapping[str, str]) -> dict[str, tuple[str, str]]:
        """Path keys relative to the root -> (label, key); absolute keys outside the root
        and keys climbing out of it (``../x``) stay as they are and match nothing."""
        out: dict[str, tuple[str, str]] = {}
        for key, label in paths.items():
            rel = key
            if key.startswith("/"):
                real = _nfc(os.path.realpath(key))
                for candidate in (key, real):
                    if candidate.startswith(self._prefix):
                        rel = candidate[len(self._prefix) :]
                        break
            out.setdefault(rel, (label, key))
        return out

    def match(self, path: Path, ids: Mapping[str, str]) -> tuple[str | None, str]:
        """``(label, "")`` for the file at ``path`` with DICOM ``ids`` (attribute ->
        value), or ``(None, reason)``."""
        csv_name = self.labels.path.name
        rel = normalise_path(path.relative_to(self.root).as_posix())
        hit = self._paths.get(rel)
        if hit is not None:
            self._used.add(hit[1])
            return hit[0], ""
        if "/" not in rel and rel in self.labels.bare:  # a bare key naming a top-level file
            self._used.add(rel)
            return self.labels.bare[rel], ""
        for name in (_nfc(path.name), _nfc(path.stem)):
            if name not in self.labels.bare:
                continue
            self._used.add(name)
            if self._names[name] == 1:
                return self.labels.bare[name], ""
            return None, (
                f"ambiguous label: {self._names[name]} files of the dataset are named "
                f"{name!r}; key them by their path relative to the dataset root in {csv_name}"
            )
        for attribute in ID_ATTRIBUTES:
            value = _nfc(ids.get(attribute, "").strip())
            if value and value in self.labels.bare:
                self._used.add(value)
                return self.labels.bare[value], ""
        return None, f"no label in {csv_name}"

    def unused_keys(self) -> list[str]:
        """Keys of the CSV that labelled no file (in CSV order)."""
        keys = [key for _, key in self._paths.values()] + list(self.labels.bare)
        return [k for k in keys if k not in self._used]

    def report(self) -> str | None:
        """What went unused in the CSV (keys matching no file, rows without an id or a
        label) as one line, or ``None``."""
        parts: list[str] = []
        unused = self.unused_keys()
        if unused:
            parts.append(
                f"{len(unused)} id(s) match no file of this dataset: {_examples(unused)} "
                "(paths are relative to the dataset root)"
            )
        rows = self.labels.unused_rows
        if rows:
            more = " ..." if len(rows) > EXAMPLES else ""
            parts.append(f"{len(rows)} row(s) not used: {'; '.join(rows[:EXAMPLES])}{more}")
        return f"{self.labels.path.name}: {'; '.join(parts)}" if parts else None


def _add(table: dict[str, str], key: str, label: str, shown: str, lineno: int, name: str) -> None:
    previous = table.get(key)
    if previous is not None and previous != label:
        raise MedaugError(
            f"labels file {name!r} gives {shown!r} two labels: "
            f"{previous!r} and {label!r} (line {lineno})"
        )
    table[key] = label


def read_labels(
    path: Path | str, *, id_column: str | None = None, label_column: str | None = None
) -> CsvLabels:
    """Read a labels CSV; clear errors for a missing file, unknown columns, conflicts."""
    csv_path = Path(path).expanduser()
    if not csv_path.is_file():
        raise MedaugError(f"labels file {str(csv_path)!r} does not exist")
    try:
        text = csv_path.read_text("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise MedaugError(f"cannot read labels file {str(csv_path)!r}: {exc}") from None
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(
            text[:4096], delimiters=",;\t"
        )
    except csv.Error:
        dialect = csv.excel
    try:
        rows = list(csv.reader(text.splitlines(), dialect))
    except csv.Error as exc:
        raise MedaugError(f"cannot parse labels file {str(csv_path)!r}: {exc}") from None
    if not rows:
        raise MedaugError(f"labels file {str(csv_path)!r} is empty")
    header = [h.strip() for h in rows[0]]
    key_col = _pick(header, id_column, KEY_COLUMNS, "id", csv_path)
    label_col = _pick(header, label_column, LABEL_COLUMNS, "label", csv_path)
    ki, li = header.index(key_col), header.index(label_col)
    paths: dict[str, str] = {}
    bare: dict[str, str] = {}
    unused: list[str] = []
    for lineno, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) <= max(ki, li):
            unused.append(f"line {lineno} has too few columns")
            continue
        key, label = row[ki].strip(), row[li].strip()
        if not key or not label:
            unused.append(f"line {lineno} has no {'id' if not key else 'label'}")
            continue
        validate_class_name(label, source=f"label on line {lineno} of {csv_path.name}")
        if is_path_key(key):
            _add(paths, normalise_path(key), label, key, lineno, csv_path.name)
        else:
            _add(bare, _nfc(key), label, key, lineno, csv_path.name)
    if not paths and not bare:
        raise MedaugError(f"labels file {str(csv_path)!r} has no rows with an id and a label")
    return CsvLabels(csv_path, key_col, label_col, paths, bare, tuple(unused))
