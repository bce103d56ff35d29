"""``medaug train`` and ``medaug evaluate`` end to end on a tiny folder."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

import medaug.data  # noqa: F401  (core: a broken import must fail, not skip)
from medaug.cli import build_cli


def test_train_then_evaluate(image_folder: Callable[..., Path], tmp_path: Path) -> None:
    data = image_folder({"NORMAL": 12, "PNEUMONIA": 24}, size=24)
    out = tmp_path / "run"
    runner = CliRunner()
    res = runner.invoke(
        build_cli(),
        [
            "train",
            str(data),
            "--classifier",
            "simple-cnn",
            "--out",
            str(out),
            "--epochs",
            "2",
            "--image-size",
            "16",
            "--batch-size",
            "8",
            "--val-split",
            "0.3",
            "--augment",
            "light",
            "--classifier-option",
            "widths=[8,16]",
            "--threads",
            "2",
            "--json",
        ],
    )
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # conftest's setting, for the tests after this one
    assert res.exit_code == 0, res.output
    assert threads == 2  # --threads reached torch
    report = json.loads(res.stdout)
    assert report["metrics"]["positive_class"] == "PNEUMONIA"
    assert "positive class: PNEUMONIA" in res.stderr and "epoch 2/2: loss" in res.stderr
    assert report["epochs_run"] == 2 and report["val_counts"]["NORMAL"] > 0
    for name in (
        "model.pt",
        "metrics.json",
        "history.json",
        "curves.png",
        "val_roc.png",
        "val_confusion.png",
        "augment.json",
    ):
        assert (out / name).is_file(), name
    payload = torch.load(out / "model.pt", weights_only=True)
    assert payload["image_size"] == 16 and payload["options"] == {"widths": [8, 16]}

    ev = runner.invoke(
        build_cli(),
        [
            "evaluate",
            "--model",
            str(out / "model.pt"),
            str(data),
            "--out",
            str(tmp_path / "ev"),
            "--json",
        ],
    )
    assert ev.exit_code == 0, ev.output
    metrics = json.loads(ev.stdout)["metrics"]
    assert metrics["confusion_matrix"][0][0] + metrics["confusion_matrix"][0][1] == 12
    assert (tmp_path / "ev" / "roc.png").is_file() and (tmp_path / "ev" / "metrics.json").is_file()


def test_train_refuses_output_inside_data(image_folder: Callable[..., Path]) -> None:
    data = image_folder({"NORMAL": 4, "PNEUMONIA": 4}, size=16)
    res = CliRunner().invoke(
        build_cli(), ["train", str(data), "--classifier", "simple-cnn", "--out", str(data / "out")]
    )
    assert res.exit_code == 1
    assert "is inside the input" in res.stderr and "Traceback" not in res.stderr


def test_train_bad_option_fails_before_reading_data(tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["train", str(tmp_path / "missing"), "--classifier", "simple-cnn", "--out", str(out)]
    res = CliRunner().invoke(build_cli(), [*args, "--threshold", "high"])
    assert res.exit_code == 1 and "--threshold must be 'calibrate'" in res.stderr
    assert not out.exists()


def test_evaluate_missing_model_is_one_line(
    image_folder: Callable[..., Path], tmp_path: Path
) -> None:
    data = image_folder({"NORMAL": 4, "PNEUMONIA": 4}, size=16)
    res = CliRunner().invoke(
        build_cli(), ["evaluate", "--model", str(tmp_path / "x.pt"), str(data)]
    )
    assert res.exit_code == 1 and "does not exist" in res.stderr


def test_train_and_evaluate_dicoms_with_labels_csv(tmp_path: Path) -> None:
    """Flat DICOM files + a labels CSV (a class name with '/'), --val DIR read alike."""
    from tests.helpers import write_labelled_dicoms

    csv = tmp_path / "labels.csv"
    classes = {"Lung Opacity": 6, "No Lung Opacity / Not Normal": 10}
    data = write_labelled_dicoms(tmp_path / "train", csv, classes, seed=1)
    val = write_labelled_dicoms(tmp_path / "val", csv, {k: 3 for k in classes}, seed=2)
    out = tmp_path / "run"
    common = ["--labels", str(csv), "--reader", "dicom", "--workers", "1"]
    res = CliRunner().invoke(
        build_cli(),
        [
            "train",
            str(data),
            *common,
            "--classifier",
            "simple-cnn",
            "--classifier-option",
            "widths=[8,16]",
            "--epochs",
            "1",
            "--image-size",
            "16",
            "--batch-size",
            "8",
            "--val",
            str(val),
            "--out",
            str(out),
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert report["train_counts"] == classes
    assert report["val_counts"] == {k: 3 for k in classes}
    assert report["data_options"] == {"labels": str(csv.resolve()), "reader": "dicom"}
    assert (out / "model.pt").is_file()

    ev = CliRunner().invoke(
        build_cli(),
        ["evaluate", "--model", str(out / "model.pt"), str(val), *common, "--json"],
    )
    assert ev.exit_code == 0, ev.output
    assert json.loads(ev.stdout)["counts"] == {k: 3 for k in classes}
    # without --labels the flat DICOM folder has no classes: the options really are used
    bare = CliRunner().invoke(build_cli(), ["evaluate", "--model", str(out / "model.pt"), str(val)])
    assert bare.exit_code == 1 and "--labels" in bare.stderr


def test_train_refuses_an_out_with_files_medaug_did_not_write(tmp_path: Path) -> None:
    """Ownership is by fact (medaug's marker), not by name: a user's ``model.pt`` is as
    foreign as a thesis (tests/hardening/test_output_ownership.py covers every command)."""
    from medaug.errors import MedaugError
    from medaug.output import check_target

    for name in ("thesis.docx", "model.pt"):
        out = tmp_path / name.replace(".", "_")
        out.mkdir()
        (out / name).write_text("precious")
        with pytest.raises(MedaugError, match=rf"holds files medaug did not write \({name}\)"):
            check_target(out, command="train", inputs=[tmp_path / "data"])
        assert (out / name).read_text() == "precious"
    own = tmp_path / "own"
    own.mkdir()
    (own / ".DS_Store").write_text("")  # hidden files that are not medaug's do not count
    check_target(own, command="train", inputs=[tmp_path / "data"])
