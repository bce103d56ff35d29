"""Every command leaves every input file's bytes and modification time unchanged: the
data folders, the checkpoints ``generate`` reads, the model ``evaluate`` reads, the
folders and the balance output ``audit`` reads."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from medaug.cli import build_cli
from tests.helpers import write_image_folder


def _state(*roots: Path) -> dict[str, tuple[int, int, str]]:
    """path -> (size, mtime_ns, sha256) of every file and folder under ``roots``."""
    out: dict[str, tuple[int, int, str]] = {}
    for root in roots:
        for p in sorted([root, *root.rglob("*")]) if root.is_dir() else [root]:
            st = p.stat()
            digest = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else ""
            out[str(p)] = (st.st_size if p.is_file() else 0, st.st_mtime_ns, digest)
    return out


def _ok(args: list[str]) -> None:
    result = CliRunner().invoke(build_cli(), args)
    assert result.exit_code == 0, result.output


@pytest.mark.slow
def test_no_command_changes_its_inputs(tmp_path: Path) -> None:
    train = write_image_folder(tmp_path / "train", {"NORMAL": 26, "PNEUMONIA": 40}, size=16, seed=1)
    test = write_image_folder(tmp_path / "test", {"NORMAL": 4, "PNEUMONIA": 4}, size=16, seed=2)
    inputs = _state(train, test)
    small = ["--image-size", "16", "--batch-size", "4"]
    gen = ["-O", "ngf=8", "-O", "ndf=8", "--no-audit"]
    clf = ["--classifier", "simple-cnn", "--classifier-option", "widths=[8,16]"]

    _ok(["inspect", str(train), "--json"])
    _ok(["balance", str(train), "--out", str(tmp_path / "bal"), *small, "--epochs", "1", *gen])
    checkpoints = tmp_path / "bal" / "checkpoints"
    read_only = _state(checkpoints)
    _ok(["generate", "-c", str(checkpoints), "-n", "12", "--out", str(tmp_path / "more")])
    assert _state(checkpoints) == read_only
    balanced = _state(tmp_path / "bal" / "dataset", tmp_path / "bal" / "manifest.csv")
    fast = ["--image-size", "16", "--extractor-option", "steps=10"]
    _ok(["audit", str(tmp_path / "bal"), "--out", str(tmp_path / "aud1"), *fast])
    _ok(
        [
            "audit",
            *("--real", str(train / "PNEUMONIA"), "--synthetic", str(tmp_path / "more" / "NORMAL")),
            *("--train", str(train / "NORMAL"), "--out", str(tmp_path / "aud2"), *fast),
        ]
    )
    assert _state(tmp_path / "bal" / "dataset", tmp_path / "bal" / "manifest.csv") == balanced
    _ok(["train", str(train), "--out", str(tmp_path / "cnn"), *clf, *small, "--epochs", "1"])
    model = tmp_path / "cnn" / "model.pt"
    read_only = _state(model)
    _ok(["evaluate", str(test), "--model", str(model), "--out", str(tmp_path / "ev")])
    assert _state(model) == read_only
    _ok(
        [
            "experiment",
            *("--train", str(train), "--test", str(test), "--out", str(tmp_path / "exp")),
            *clf,
            *small,
            *("--epochs", "1", "--arms", "baseline,classic", "--seeds", "1"),
        ]
    )
    assert _state(train, test) == inputs
