"""``medaug inspect``: JSON report, rich table, one-line errors, the Done-when datasets."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from medaug.cli import build_cli
from tests.helpers import tree_hash


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(build_cli(), ["inspect", *args])
    out = result.stdout
    err = result.output.replace(out, "") if result.output != out else getattr(result, "stderr", "")
    return result.exit_code, out, err or result.output


def _img(path: Path, value: int = 100) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((20, 20), value, np.uint8)).save(path)


def test_messy_folder_is_reported_not_crashed(tmp_path: Path) -> None:
    root = tmp_path / "data"
    for i in range(6):
        _img(root / "PNEUMONIA" / f"person{i}_bacteria_{i}.jpeg")
    for i in range(2):
        _img(root / "NORMAL" / f"IM-000{i}-0001.jpeg")
    (root / "NORMAL" / "broken.jpeg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (root / "NORMAL" / "notes.txt").write_text("x")
    (root / "EMPTY").mkdir()
    before = tree_hash(root)
    code, out, _ = _run(str(root), "--json")
    assert code == 0
    report = json.loads(out)
    assert report["classes"] == {"NORMAL": 2, "PNEUMONIA": 6}
    assert report["imbalance_ratio"] == 3.0
    assert report["plan"]["add"] == {"NORMAL": 4}
    assert report["patients"] == {"NORMAL": 2, "PNEUMONIA": 6}
    assert report["channels"] == 1 and report["bit_depth"] == 8
    skipped = {s["path"]: s["reason"] for s in report["skipped"]}
    assert set(skipped) == {"NORMAL/broken.jpeg", "NORMAL/notes.txt", "EMPTY"}
    assert tree_hash(root) == before
    code, out, _ = _run(str(root))
    assert code == 0 and "NORMAL" in out and "imbalance ratio" in out and "broken.jpeg" in out
    code, out, _ = _run(str(root), "--quick", "--json")
    assert code == 0 and "channels" not in json.loads(out)


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        ("missing", "does not exist"),
        ("flat", "no class folders"),
        ("unreadable", "no readable images"),
        ("single", "only 1 class"),
    ],
)
def test_errors_are_one_line(tmp_path: Path, layout: str, message: str) -> None:
    root = tmp_path / "data"
    if layout == "flat":
        _img(root / "x.png")
    elif layout == "unreadable":
        (root / "a").mkdir(parents=True)
        (root / "a" / "x.png").write_text("nope")
    elif layout == "single":
        _img(root / "only" / "x.png")
    code, out, err = _run(str(root), "--json")
    assert code != 0 and out == ""
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_unknown_reader_and_bad_option(tmp_path: Path) -> None:
    _img(tmp_path / "a" / "x.png")
    _img(tmp_path / "b" / "x.png")
    code, _, err = _run(str(tmp_path), "--reader", "nope")
    assert code != 0 and "unknown reader 'nope'" in err
    code, _, err = _run(str(tmp_path), "--reader", "folder", "--labels", str(tmp_path / "l.csv"))
    assert code != 0 and "unknown option 'labels'" in err


@pytest.mark.slow
def test_done_when_chestxray(chestxray_train: Path) -> None:
    code, out, _ = _run(str(chestxray_train), "--json")
    assert code == 0
    report = json.loads(out)
    assert report["classes"] == {"NORMAL": 1349, "PNEUMONIA": 3883}
    assert report["skipped"] == [] and report["channels"] == 1
    assert report["plan"]["add"] == {"NORMAL": 3883 - 1349}


def test_done_when_rsna(rsna_dicom_sample: Path) -> None:
    code, out, _ = _run(
        str(rsna_dicom_sample / "images"),
        "--labels",
        str(rsna_dicom_sample / "labels.csv"),
        "--json",
    )
    assert code == 0
    report = json.loads(out)
    assert report["classes"] == {"Lung Opacity": 5, "No Lung Opacity / Not Normal": 7, "Normal": 4}
    assert (
        report["reader"] == "dicom"
        and report["source_format"] == "dicom"
        and report["skipped"] == []
    )
