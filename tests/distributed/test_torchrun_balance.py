"""``torchrun --nproc_per_node 2 -m medaug balance`` on CPU (gloo): the ranks train
different classes' generators in parallel, rank 0 writes; the output equals a
single-process run's, image for image."""

from __future__ import annotations

import csv
import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from medaug.cli import build_cli
from tests.distributed.launching import REPO_ROOT, TIMEOUT_S, child_env, python

pytestmark = pytest.mark.slow


def _args(data: Path, out: Path) -> list[str]:
    small = ["--image-size", "16", "--epochs", "2", "--batch-size", "4"]
    gen = ["-O", "ngf=8", "-O", "ndf=8", "--no-audit", "--threads", "1"]
    return ["balance", str(data), "--out", str(out), *small, *gen, "--seed", "3", "--json"]


def _dataset(out: Path) -> dict[str, bytes]:
    files = {}
    for p in sorted((out / "dataset").rglob("*")):
        if p.is_file():
            with Image.open(p) as im:
                files[p.relative_to(out).as_posix()] = np.asarray(im).tobytes()
    return files


def test_torchrun_balance_two_ranks_matches_a_single_process_run(
    image_folder: Callable[..., Path], tmp_path: Path
) -> None:
    data = image_folder({"a": 4, "b": 5, "c": 12}, size=16)  # two classes to grow
    done = subprocess.run(
        [
            *python("-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"),
            *("-m", "medaug", *_args(data, tmp_path / "ddp")),
        ],
        cwd=REPO_ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)  # printed once, by rank 0
    assert summary["counts_after"] == {"a": 8, "b": 10, "c": 12}  # capped at half
    single = CliRunner().invoke(build_cli(), _args(data, tmp_path / "one"))
    assert single.exit_code == 0, single.output
    assert _dataset(tmp_path / "ddp") == _dataset(tmp_path / "one")
    with open(tmp_path / "ddp" / "manifest.csv", newline="", encoding="utf-8") as fh:
        assert len(list(csv.DictReader(fh))) == 30
    assert sorted(p.name for p in (tmp_path / "ddp" / "checkpoints").glob("*.pt")) == [
        "a.pt",
        "b.pt",
    ]
