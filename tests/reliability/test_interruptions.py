"""``kill -9`` at several exact points of ``balance`` and ``experiment``, then the same
command again (``--resume`` for balance): the outputs are those of an uninterrupted run,
the manifest has one row per file, and no partial or temporary file is left."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from medaug.cli import build_cli
from tests.helpers import tree_hash, write_image_folder

TINY = ["--image-size", "16", "--batch-size", "4", "-O", "ngf=8", "-O", "ndf=8", "--no-audit"]
ROOT = Path(__file__).resolve().parents[2]


def _killed(target: str, nth: int, args: list[str]) -> None:
    """Run ``medaug ARGS`` until the ``nth`` call of ``target`` kills it."""
    proc = subprocess.run(
        [sys.executable, "-m", "tests.reliability.killer", target, str(nth), "--", *args],
        cwd=ROOT,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == -signal.SIGKILL, f"not killed at {target}#{nth}: {proc.stderr}"


def _cli(args: list[str]) -> str:
    result = CliRunner().invoke(build_cli(), args)
    assert result.exit_code == 0, result.output
    return result.stdout


def _content(path: Path) -> bytes:
    """A real file's bytes; a synthetic image's pixels (its metadata names the checkpoint's
    SHA-256, which includes the time the checkpoint was saved)."""
    if not path.name.startswith("synthetic_"):
        return path.read_bytes()
    import numpy as np
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im).tobytes()


def _files(root: Path) -> dict[str, bytes]:
    """The balanced dataset: relative path -> content."""
    return {
        p.relative_to(root).as_posix(): _content(p)
        for p in sorted((root / "dataset").rglob("*"))
        if p.is_file()
    }


def _manifest(root: Path) -> list[dict[str, str]]:
    import csv

    with open(root / "manifest.csv", newline="", encoding="utf-8") as fh:
        return [
            {k: v for k, v in row.items() if k not in ("created", "checkpoint_sha256")}
            for row in csv.DictReader(fh)
        ]


@pytest.fixture(scope="module")
def balance_case(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str], Path]:
    """The data, the arguments, and an uninterrupted reference output."""
    tmp = tmp_path_factory.mktemp("balance")
    data = write_image_folder(tmp / "data", {"NORMAL": 6, "PNEUMONIA": 80}, size=16, seed=4)
    # filled up to the majority: 74 images to write, so a kill at the 30th one lands
    args = [*TINY, "--epochs", "3", "--seed", "1", "--max-synthetic-share", "none"]
    ref = tmp / "ref"
    _cli(["balance", str(data), "--out", str(ref), *args, "--json"])
    return data, args, ref


@pytest.mark.parametrize(
    ("target", "nth"),
    [
        ("medaug.balancing.writing:link_file", 40),  # while linking the real images
        ("medaug.generation.fitting:save_checkpoint", 2),  # after the first epoch's checkpoint
        ("medaug_folder.formats:write_png", 30),  # in the middle of writing images
        ("medaug.balancing.run:write_manifest", 1),  # everything written but the manifest
    ],
)
@pytest.mark.slow
def test_balance_killed_then_resumed_equals_an_uninterrupted_run(
    balance_case: tuple[Path, list[str], Path], tmp_path: Path, target: str, nth: int
) -> None:
    data, args, ref = balance_case
    before = tree_hash(data)
    out = tmp_path / "out"
    cmd = ["balance", str(data), "--out", str(out), *args]
    _killed(target, nth, cmd)
    assert json.loads((out / ".medaug-run.json").read_text())["status"] == "running"
    _cli([*cmd, "--resume", "--json"])
    assert tree_hash(data) == before
    assert not list(out.rglob(".medaug-tmp-*"))  # no partial file
    assert _files(out) == _files(ref)  # same real links, same synthetic bytes
    rows = _manifest(out)
    assert rows == _manifest(ref)
    on_disk = {p.relative_to(out).as_posix() for p in (out / "dataset").rglob("*") if p.is_file()}
    assert {r["path"] for r in rows} == on_disk and len(rows) == len(on_disk)


@pytest.mark.slow
def test_experiment_killed_mid_generator_and_mid_run_gives_the_same_results(
    tmp_path: Path,
) -> None:
    train = write_image_folder(tmp_path / "train", {"NORMAL": 8, "PNEUMONIA": 20}, size=16, seed=1)
    test = write_image_folder(tmp_path / "test", {"NORMAL": 5, "PNEUMONIA": 5}, size=16, seed=2)
    before = tree_hash(train), tree_hash(test)
    common = [
        "experiment",
        *("--train", str(train), "--test", str(test), "--generator", "dcgan"),
        *("--classifier", "simple-cnn", "--classifier-option", "widths=[8,16]"),
        *("--image-size", "16", "--epochs", "1", "--batch-size", "8", "--augment", "none"),
        *("--gen-epochs", "3", "--gen-batch-size", "4", "--gen-option", "ngf=8"),
        *("--gen-option", "ndf=8", "--arms", "baseline,gan", "--seeds", "1"),
    ]
    ref = json.loads(_cli([*common, "--out", str(tmp_path / "ref"), "--json"]))
    out = tmp_path / "out"
    # killed after the baseline, at the generator's second epoch checkpoint; then again,
    # as the resumed run starts the gan arm's classifier
    _killed("medaug.generation.fitting:save_checkpoint", 2, [*common, "--out", str(out)])
    assert (out / "runs" / "seed0" / "baseline" / "result.json").is_file()
    _killed("medaug.experiments.runner:fit_and_evaluate", 1, [*common, "--out", str(out)])
    assert not (out / "runs" / "seed0" / "gan" / "result.json").exists()
    again = json.loads(_cli([*common, "--out", str(out), "--json"]))
    assert (tree_hash(train), tree_hash(test)) == before
    assert again["summary"] == ref["summary"]
    assert [r["test"] for r in again["runs"]] == [r["test"] for r in ref["runs"]]
    assert not list(out.rglob(".medaug-tmp-*"))
