"""``torchrun --nproc_per_node 2 -m medaug train`` on CPU (gloo): a valid run folder like
a single-process run's, written once, with the weights every rank agreed on."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from medaug.cli import build_cli
from medaug.training.checkpoint import load_checkpoint
from medaug.training.parallel import state_digest
from tests.distributed.launching import REPO_ROOT, TIMEOUT_S, child_env, python

pytestmark = pytest.mark.slow

FILES = ("model.pt", "metrics.json", "history.json", "curves.png", "val_roc.png")


def _train_args(data: Path, out: Path) -> list[str]:
    return [
        "train",
        str(data),
        "--classifier",
        "simple-cnn",
        "--classifier-option",
        "widths=[8,16]",
        "--image-size",
        "16",
        "--epochs",
        "1",
        "--batch-size",
        "4",
        "--val-split",
        "0.3",
        "--augment",
        "light",
        "--out",
        str(out),
        "--json",
    ]


def test_torchrun_train_two_ranks_matches_a_single_process_run(
    image_folder: Callable[..., Path], tmp_path: Path
) -> None:
    data = image_folder({"NORMAL": 8, "PNEUMONIA": 12}, size=16)
    launch = [
        *python("-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"),
        *("-m", "medaug", *_train_args(data, tmp_path / "ddp")),
    ]
    done = subprocess.run(
        launch,
        cwd=REPO_ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)  # one JSON document: rank 1 printed nothing
    assert done.stderr.count("epoch 1/1: loss") == 1
    assert "2 ranks" in done.stderr and "Traceback" not in done.stderr

    single = CliRunner().invoke(build_cli(), _train_args(data, tmp_path / "one"))
    assert single.exit_code == 0, single.output
    alone = json.loads(single.stdout)
    assert set(report) == set(alone)
    assert set(report["metrics"]) == set(alone["metrics"])
    assert report["train_counts"] == alone["train_counts"]
    assert report["val_counts"] == alone["val_counts"]
    assert report["parallel"] == {
        "world_size": 2,
        "effective_batch_size": 8,
        "peak_lr": pytest.approx(alone["parallel"]["peak_lr"] * 2**0.5),
        "weights_sha256": report["parallel"]["weights_sha256"],
    }
    assert alone["parallel"]["world_size"] == 1

    for name in FILES:
        assert (tmp_path / "ddp" / name).is_file(), name
    saved = json.loads((tmp_path / "ddp" / "metrics.json").read_text())
    assert saved == report
    model, meta = load_checkpoint(tmp_path / "ddp" / "model.pt")
    assert meta["classes"] == ["NORMAL", "PNEUMONIA"] and meta["image_size"] == 16
    # model.pt holds exactly the weights that both ranks were checked to share
    assert state_digest(model) == report["parallel"]["weights_sha256"]
    assert len(json.loads((tmp_path / "ddp" / "history.json").read_text())) == 1
