"""``torchrun --nproc_per_node 1`` on the tier's device: with CUDA medaug's process group
takes nccl for CUDA tensors (``cpu:gloo,cuda:nccl``). Under ``MEDAUG_GPU_TIER_DEVICE=cpu``
the launch runs on the CPU with whatever backend medaug picks there (gloo on a machine
without CUDA).

The rank runs ``torchrun_probe.py``, which is ``python -m medaug`` plus a note of the
backend. With one process medaug wraps nothing in DistributedDataParallel and its object
collectives go through gloo, so no NCCL communicator is ever created: the test shows
that a launch whose group holds nccl runs every step on the GPU and writes its output.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from medaug import distributed
from medaug.training.checkpoint import load_checkpoint
from tests.distributed.launching import REPO_ROOT, TIMEOUT_S, child_env, python
from tests.gpu.gpu_helpers import (
    SIZE,
    TINY_CNN,
    TINY_DCGAN,
    balance_args,
    check_balance,
    check_history,
    train_args,
)

pytestmark = pytest.mark.slow

PROBE = Path(__file__).with_name("torchrun_probe.py")


def _launch(args: list[str], record: Path) -> subprocess.CompletedProcess[str]:
    command = python("-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "1")
    return subprocess.run(
        [*command, str(PROBE), str(record), *args, "--json"],
        cwd=REPO_ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )


@pytest.mark.parametrize("command", ["train", "balance"])
def test_torchrun_one_process(
    command: str, gpu_device: str, image_folder: Callable[..., Path], tmp_path: Path
) -> None:
    cuda = torch.device(gpu_device).type == "cuda"
    device = "cuda" if cuda else "cpu"  # a rank takes the GPU cuda:LOCAL_RANK
    data = image_folder({"NORMAL": 6, "PNEUMONIA": 12}, size=SIZE)
    out = tmp_path / "out"
    if command == "train":
        args = train_args(data, out, device, "simple-cnn", *TINY_CNN)
    else:
        args = balance_args(data, out, device, *TINY_DCGAN)
    record = tmp_path / "backend.json"
    done = _launch(args, record)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr

    backend = json.loads(record.read_text())["backend"]
    if cuda:
        assert "nccl" in backend, backend
    else:
        assert backend == distributed.default_backend()
    report = json.loads(done.stdout)  # one JSON document, printed by rank 0
    if command == "train":
        assert report["parallel"]["world_size"] == 1
        assert f"({device}" in done.stderr  # "validating on 6 (cuda:0)"
        check_history(out / "history.json")
        _, meta = load_checkpoint(out / "model.pt")
        assert meta["classes"] == ["NORMAL", "PNEUMONIA"]
    else:
        check_balance(report, out, "cuda:0" if cuda else "cpu")
