"""Labels from a CSV file: one row per file or per id (``patientId,class`` for RSNA).

The key column holds a file path, a file name, a stem or a PatientID; the label
column the class. Both are auto-detected from common names unless given. Several rows
for one key (RSNA has one per box) must agree.
"""

from __future__ import annotations

import csv
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


@dataclass(frozen=True)
class CsvLabels:
    """Labels keyed by the values of the key column (and their stems)."""

    path: Path
    key_column: str
    label_column: str
    labels: dict[str, str]

    def lookup(self, *keys: str | None) -> str | None:
        """The label of the first key (path, name, stem, PatientID...) found."""
        for key in keys:
            if key and key in self.labels:
                return self.labels[key]
        return None


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
    rows = list(csv.reader(text.splitlines(), dialect))
    if not rows:
        raise MedaugError(f"labels file {str(csv_path)!r} is empty")
    header = [h.strip() for h in rows[0]]
    key_col = _pick(header, id_column, KEY_COLUMNS, "id", csv_path)
    label_col = _pick(header, label_column, LABEL_COLUMNS, "label", csv_path)
    ki, li = header.index(key_col), header.index(label_col)
    labels: dict[str, str] = {}
    for lineno, row in enumerate(rows[1:], start=2):
        if not row or len(row) <= max(ki, li):
            continue
        key, label = row[ki].strip(), row[li].strip()
        if not key or not label:
            continue
        validate_class_name(label, source=f"label on line {lineno} of {csv_path.name}")
        for k in {key, key.replace("\\", "/"), Path(key).name, Path(key).stem}:
            previous = labels.get(k)
            if previous is not None and previous != label and k == key:
                raise MedaugError(
                    f"labels file {csv_path.name!r} gives {key!r} two labels: "
                    f"{previous!r} and {label!r} (line {lineno})"
                )
            labels.setdefault(k, label)
    if not labels:
        raise MedaugError(f"labels file {str(csv_path)!r} has no rows with an id and a label")
    return CsvLabels(csv_path, key_col, label_col, labels)
