"""Labels from a CSV come only from keys that name one file unambiguously (issue 12.1)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from medaug_dicom.labels import read_labels

from medaug.data import DataOptions, scan_dataset
from medaug.errors import MedaugError
from tests.hardening.corpus import texture
from tests.helpers import DicomSpec, tree_hash, write_dicom


def _dicoms(root: Path, *rels: str, patient: str | None = None) -> Path:
    for i, rel in enumerate(rels):
        write_dicom(root / rel, texture(16, i), patient_id=patient or Path(rel).stem)
    return root


def _csv(tmp_path: Path, rows: str, header: str = "file,class") -> Path:
    path = tmp_path / "labels.csv"
    path.write_text(f"{header}\n{rows}", "utf-8")
    return path


def _labels(root: Path, csv: Path) -> dict[str, str]:
    scan = scan_dataset(root, options=DataOptions(labels=csv))
    return {r.path.relative_to(root).as_posix(): r.label for r in scan.records}


def _reasons(root: Path, csv: Path) -> dict[str, str]:
    scan = scan_dataset(root, options=DataOptions(labels=csv))
    return {
        (s.path.relative_to(root).as_posix() if s.path.is_relative_to(root) else s.path.name): (
            s.reason
        )
        for s in scan.skipped
    }


def test_same_name_in_another_folder_takes_no_label(tmp_path: Path) -> None:
    """A path key labels that path only: ``site1/a.dcm`` never labels ``site2/a.dcm``
    (the bug: both took the label through the bare name)."""
    root = _dicoms(tmp_path / "data", "site1/a.dcm", "site2/a.dcm", "site1/b.dcm")
    csv = _csv(tmp_path, "site1/a.dcm,x\nsite1/b.dcm,y\n")
    before = tree_hash(root)
    assert _labels(root, csv) == {"site1/a.dcm": "x", "site1/b.dcm": "y"}
    assert _reasons(root, csv)["site2/a.dcm"] == "no label in labels.csv"
    assert tree_hash(root) == before


def test_key_outside_the_dataset_labels_nothing(tmp_path: Path) -> None:
    root = _dicoms(tmp_path / "data", "a.dcm", "b.dcm")
    csv = _csv(tmp_path, "../x/a.dcm,x\nb.dcm,y\n")
    assert _labels(root, csv) == {"b.dcm": "y"}
    reasons = _reasons(root, csv)
    assert reasons["a.dcm"] == "no label in labels.csv"
    assert "'../x/a.dcm'" in reasons["labels.csv"] and "match no file" in reasons["labels.csv"]


def test_paths_are_normalised_and_absolute_paths_inside_the_root_count(tmp_path: Path) -> None:
    root = _dicoms(tmp_path / "data", "s/a.dcm", "s/b.dcm", "s/c.dcm", "d.dcm")
    rows = f"./s/a.dcm,x\ns\\b.dcm,y\ns/../s/c.dcm,x\n{root.resolve()}/d.dcm,y\n"
    assert _labels(root, _csv(tmp_path, rows)) == {
        "s/a.dcm": "x",
        "s/b.dcm": "y",
        "s/c.dcm": "x",
        "d.dcm": "y",
    }


def test_bare_names_label_only_unique_files(tmp_path: Path) -> None:
    root = _dicoms(tmp_path / "data", "site1/a.dcm", "site2/a.dcm", "site1/b.dcm", "top.dcm")
    csv = _csv(tmp_path, "a.dcm,x\nb,y\ntop.dcm,x\n")
    assert _labels(root, csv) == {"site1/b.dcm": "y", "top.dcm": "x"}
    reasons = _reasons(root, csv)
    for rel in ("site1/a.dcm", "site2/a.dcm"):
        assert reasons[rel].startswith("ambiguous label: 2 files of the dataset are named 'a.dcm'")


def test_a_bare_key_is_the_exact_path_of_a_top_level_file(tmp_path: Path) -> None:
    """``a.dcm`` is the path of ``ROOT/a.dcm``: that file takes it; the other ``a.dcm``
    is ambiguous, not silently labelled."""
    root = _dicoms(tmp_path / "data", "a.dcm", "sub/a.dcm", "b.dcm")
    csv = _csv(tmp_path, "a.dcm,x\nb.dcm,y\n")
    assert _labels(root, csv) == {"a.dcm": "x", "b.dcm": "y"}
    assert _reasons(root, csv)["sub/a.dcm"].startswith("ambiguous label")


def test_ids_label_every_file_of_a_patient_or_study(tmp_path: Path) -> None:
    root = tmp_path / "data"
    _dicoms(root, "v1.dcm", "v2.dcm", patient="P7")
    write_dicom(
        root / "other.dcm",
        texture(16),
        DicomSpec(extra={"StudyInstanceUID": "1.2.3"}),
        patient_id="P8",
    )
    csv = _csv(tmp_path, "P7,x\n1.2.3,y\n", header="id,label")
    assert _labels(root, csv) == {"v1.dcm": "x", "v2.dcm": "x", "other.dcm": "y"}


def test_rows_without_id_or_label_are_reported(tmp_path: Path) -> None:
    root = _dicoms(tmp_path / "data", "a.dcm", "b.dcm")
    csv = _csv(tmp_path, "a.dcm,x\n,y\nb.dcm,\nshort\n\n")
    parsed = read_labels(csv)
    assert parsed.unused_rows == (
        "line 3 has no id",
        "line 4 has no label",
        "line 5 has too few columns",
    )
    assert "3 row(s) not used: line 3 has no id" in _reasons(root, csv)["labels.csv"]


def test_conflicting_rows_are_an_error_after_normalisation(tmp_path: Path) -> None:
    root = _dicoms(tmp_path / "data", "s/a.dcm", "b.dcm")
    csv = _csv(tmp_path, "s/a.dcm,x\n./s/a.dcm,y\n")
    with pytest.raises(MedaugError, match=re.escape("gives './s/a.dcm' two labels: 'x' and 'y'")):
        scan_dataset(root, options=DataOptions(labels=csv))


def test_unicode_forms_match(tmp_path: Path) -> None:
    """A CSV typed on one system (composed é) labels a file named on another (e + accent)."""
    import unicodedata

    decomposed = unicodedata.normalize("NFD", "é.dcm")
    root = _dicoms(tmp_path / "data", decomposed, "b.dcm", patient="P1")
    csv = _csv(tmp_path, f"{unicodedata.normalize('NFC', 'é.dcm')},x\nb.dcm,y\n")
    assert sorted(_labels(root, csv).values()) == ["x", "y"]
