"""``torchrun --nproc_per_node 2 -m medaug experiment`` on CPU (gloo): the ranks run
different seeds, rank 0 writes the results; they equal a single-process experiment's."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from medaug.cli import build_cli
from tests.distributed.launching import REPO_ROOT, TIMEOUT_S, child_env, python
from tests.helpers import write_image_folder

pytestmark = pytest.mark.slow


def _args(train: Path, test: Path, out: Path) -> list[str]:
    return [
        "experiment",
        *("--train", str(train), "--test", str(test), "--out", str(out)),
        *("--classifier", "simple-cnn", "--classifier-option", "widths=[8,16]"),
        *("--image-size", "16", "--epochs", "1", "--batch-size", "8", "--augment", "none"),
        *("--arms", "baseline,classic", "--seeds", "2", "--json"),
        *("--threads", "1"),  # the same arithmetic in every process: results compare exactly
    ]


def test_torchrun_experiment_two_ranks_matches_a_single_process_run(tmp_path: Path) -> None:
    train = write_image_folder(tmp_path / "train", {"NORMAL": 8, "PNEUMONIA": 14}, size=16)
    test = write_image_folder(tmp_path / "test", {"NORMAL": 4, "PNEUMONIA": 4}, size=16, seed=2)
    done = subprocess.run(
        [
            *python("-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"),
            *("-m", "medaug", *_args(train, test, tmp_path / "ddp")),
        ],
        cwd=REPO_ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)  # printed once, by rank 0
    single = CliRunner().invoke(build_cli(), _args(train, test, tmp_path / "one"))
    assert single.exit_code == 0, single.output
    reference = json.loads(single.stdout)
    assert [(r["seed"], r["arm"]) for r in results["runs"]] == [
        (0, "baseline"),
        (0, "classic"),
        (1, "baseline"),
        (1, "classic"),
    ]
    assert [r["test"] for r in results["runs"]] == [r["test"] for r in reference["runs"]]
    assert results["summary"] == reference["summary"]
