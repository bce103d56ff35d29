"""balance refuses unsafe or ambiguous output folders and bad input with one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import tree_hash

from .balance_helpers import TINY, run


def _error(args: list[str]) -> str:
    result = run(args, ok=False)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = [ln for ln in result.output.splitlines() if ln.startswith("Error:")]
    assert len(lines) == 1, result.output
    return lines[0]


def test_refuses_to_write_into_data(image_folder) -> None:
    data = image_folder({"a": 4, "b": 8}, size=16)
    before = tree_hash(data)
    assert "inside the input" in _error(["balance", str(data), "--out", str(data / "out"), *TINY])
    assert "inside the input" in _error(["balance", str(data), "--out", str(data), *TINY])
    assert tree_hash(data) == before


def test_refuses_a_foreign_non_empty_out(image_folder, tmp_path: Path) -> None:
    data = image_folder({"a": 4, "b": 8}, size=16)
    out = tmp_path / "busy"
    out.mkdir()
    (out / "thesis.docx").write_text("precious")
    message = _error(["balance", str(data), "--out", str(out), *TINY])
    assert "holds files medaug did not write (thesis.docx)" in message
    assert (out / "thesis.docx").read_text() == "precious"
    assert sorted(p.name for p in out.iterdir()) == ["thesis.docx"]


def test_refuses_other_settings_in_its_own_run(image_folder, tmp_path: Path) -> None:
    data = image_folder({"a": 4, "b": 8}, size=16)
    out = tmp_path / "out"
    run(["balance", str(data), "--out", str(out), *TINY])
    msg = _error(["balance", str(data), "--out", str(out), *TINY, "--seed", "9"])
    assert "other settings" in msg and "seed" in msg


def test_interrupted_run_needs_resume(image_folder, tmp_path: Path) -> None:
    data = image_folder({"a": 4, "b": 8}, size=16)
    out = tmp_path / "out"
    run(["balance", str(data), "--out", str(out), *TINY])
    state = out / ".medaug-run.json"
    state.write_text(state.read_text().replace('"status": "complete"', '"status": "running"'))
    assert "--resume" in _error(["balance", str(data), "--out", str(out), *TINY])
    run(["balance", str(data), "--out", str(out), *TINY, "--resume"])


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        (["--generator", "nope"], "unknown generator 'nope'"),
        (["--option", "bogus=1"], "unknown dcgan option"),
        (["--image-size", "48"], "image sizes"),
        (["--strategy", "most"], "invalid strategy"),
        (["--strategy", "a=1"], "below"),
        (["--strategy", "a=9", "--count", "3"], "cannot be combined"),
        (["--device", "cuda:7"], "cuda"),
    ],
)
def test_bad_options_are_one_line_errors(image_folder, tmp_path: Path, extra, match) -> None:
    if "cuda" in match:
        import torch

        if torch.cuda.device_count() > 7:
            pytest.skip("this machine has 8 GPUs")
    data = image_folder({"a": 4, "b": 8}, size=16)
    out = tmp_path / "out"
    msg = _error(["balance", str(data), "--out", str(out), *TINY, *extra])
    assert match in msg
    assert not out.exists()  # nothing written before the input was validated


def test_missing_data_and_missing_out(tmp_path: Path) -> None:
    assert "does not exist" in _error(
        ["balance", str(tmp_path / "nope"), "--out", str(tmp_path / "o")]
    )
    assert "--out is required" in _error(["balance", str(tmp_path)])


def test_single_class_is_refused(image_folder, tmp_path: Path) -> None:
    data = image_folder({"only": 5}, size=16)
    assert "class" in _error(["balance", str(data), "--out", str(tmp_path / "o"), *TINY])


def test_a_second_run_on_the_same_out_is_refused_while_the_first_holds_it(
    image_folder, tmp_path: Path
) -> None:
    from medaug.errors import MedaugError
    from medaug.locking import folder_lock

    data = image_folder({"a": 4, "b": 8}, size=16)
    out = tmp_path / "out"
    with folder_lock(out, what="balance run"):  # as another process's run would hold it
        assert "another medaug balance run is writing to" in _error(
            ["balance", str(data), "--out", str(out), *TINY]
        )
        with pytest.raises(MedaugError, match="another medaug"), folder_lock(out):
            pass
    assert list(out.iterdir()) == []  # nothing written by the refused run, no lock file
    run(["balance", str(data), "--out", str(out), *TINY])  # free again: it runs


def test_a_changed_input_is_reported_not_hidden(image_folder, tmp_path: Path) -> None:
    data = image_folder({"a": 4, "b": 8}, size=16)
    out = tmp_path / "out"
    args = ["balance", str(data), "--out", str(out), *TINY]
    run(args)
    assert "already complete" in run(args).output  # unchanged input: the same run
    extra = data / "a" / "new_patient_img.png"
    extra.write_bytes((data / "a" / sorted(p.name for p in (data / "a").iterdir())[0]).read_bytes())
    message = _error(args)
    assert "has changed since the run" in message and "new --out" in message


def test_generate_refuses_a_folder_that_is_not_a_generate_output(
    image_folder, tmp_path: Path
) -> None:
    data = image_folder({"a": 4, "b": 8}, size=16)
    out = tmp_path / "out"
    run(["balance", str(data), "--out", str(out), *TINY])
    ckpt = str(out / "checkpoints")
    before = tree_hash(data)
    # a real dataset (the checkpoint's DATA), a class folder of it, a new class in it, and
    # a balance output (whose dataset/ reads as real data)
    for target in (data, data / "a" / "more", data / "new", out, out / "dataset"):
        message = _error(["generate", "-c", ckpt, "-n", "2", "--out", str(target)])
        assert "the input" in message and "never writes into what it reads" in message
    assert tree_hash(data) == before
    more = tmp_path / "more"
    run(["generate", "-c", ckpt, "-n", "2", "--out", str(more)])
    run(["generate", "-c", ckpt, "-n", "2", "--out", str(more), "--seed", "1"])  # its own: ok
    assert len(list((more / "a").glob("synthetic_*"))) == 4


@pytest.mark.parametrize("names", [("checkpoints", "report"), ("manifest.csv", "dataset")])
def test_class_names_like_medaug_files_stay_apart(
    image_folder, tmp_path: Path, names: tuple[str, str]
) -> None:
    """Classes named like medaug's own files live under OUT/dataset: never mixed up."""
    from torchvision.datasets import ImageFolder

    data = image_folder({names[0]: 4, names[1]: 8}, size=16)
    out = tmp_path / "out"
    run(["balance", str(data), "--out", str(out), *TINY])
    folder = ImageFolder(str(out / "dataset"))
    assert folder.classes == sorted(names) and len(folder) == 16
    assert (out / "manifest.csv").is_file() and (out / "checkpoints").is_dir()
    assert run(["inspect", str(out), "--json"]).exit_code == 0


def test_tiny_classes_are_refused_or_warned(image_folder, tmp_path: Path) -> None:
    data = image_folder({"a": 1, "b": 8}, size=16)
    message = _error(["balance", str(data), "--out", str(tmp_path / "o"), *TINY])
    assert "too few images to train a generator: 'a' has 1 (minimum 4" in message
    assert "--min-class-images" in message
    assert not (tmp_path / "o").exists()  # refused before anything was written
    from .balance_helpers import run_json

    summary = run_json(
        ["balance", str(data), "--out", str(tmp_path / "p"), *TINY, "--min-class-images", "1",
         "--max-synthetic-share", "none"]
    )  # fmt: skip
    assert summary["counts_after"] == {"a": 8, "b": 8}
    assert any("'a' has only 1 images" in w for w in summary["warnings"])
    assert (
        "warning: class 'a' has only 1 images" in (tmp_path / "p" / "report/report.md").read_text()
    )
