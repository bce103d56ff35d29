"""Without torchrun medaug.distributed is a set of single-process no-ops; torchrun's
variables are read strictly; the data-parallel pieces that need no second process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from medaug import distributed, runtime
from medaug.cli.launch import describe_failure, report_error
from medaug.errors import MedaugError
from medaug.training.data import TensorData
from medaug.training.parallel import data_digest, scaled_lr, shard, state_digest

LAUNCH = {
    "RANK": "3",
    "WORLD_SIZE": "4",
    "LOCAL_RANK": "1",
    "LOCAL_WORLD_SIZE": "2",
    "MASTER_ADDR": "node0",
    "MASTER_PORT": "29500",
}


@pytest.fixture
def no_launch(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in distributed.LAUNCH_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.usefixtures("no_launch")
def test_without_torchrun_every_helper_is_a_single_process_no_op() -> None:
    assert not distributed.launched() and distributed.detect() is None
    with distributed.session() as launch:
        assert launch is None
        assert (distributed.rank(), distributed.world_size()) == (0, 1)
        assert (distributed.local_rank(), distributed.local_world_size()) == (0, 1)
        assert distributed.is_main() and not distributed.is_initialized()
        box = {"a": 1}
        assert distributed.broadcast_object(box) is box
        assert distributed.all_gather_object(box) == [box]
        distributed.barrier()
        distributed.check_same_on_all_ranks(box, "anything")
        assert distributed.rank_seed(5) == 5
        ran = []
        with distributed.main_first():
            ran.append(True)
        assert ran == [True]


def test_launch_is_read_from_torchruns_variables() -> None:
    launch = distributed.detect(LAUNCH)
    assert launch == distributed.Launch(3, 4, 1, 2, "node0", 29500)
    assert launch is not None and not launch.is_main


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"MASTER_ADDR": ""}, "MASTER_ADDR not: start medaug with torchrun"),
        ({"RANK": "x"}, "torchrun variables are not integers"),
        ({"RANK": "4"}, "torchrun variables are inconsistent: RANK=4 WORLD_SIZE=4"),
    ],
)
def test_a_malformed_launch_is_one_clear_error(change: dict[str, str], message: str) -> None:
    with pytest.raises(MedaugError, match=message):
        distributed.detect({**LAUNCH, **change})


def test_rank_seeds_differ_per_rank_and_keep_the_seed_on_rank_0() -> None:
    seeds = [distributed.rank_seed(11, r) for r in range(4)]
    assert seeds[0] == 11 and len(set(seeds)) == 4
    assert distributed.rank_seed(12, 1) != seeds[1]
    assert seeds == [distributed.rank_seed(11, r) for r in range(4)]  # reproducible


def test_digest_is_canonical() -> None:
    assert distributed.digest({"a": 1, "b": [2]}) == distributed.digest({"b": [2], "a": 1})
    assert distributed.digest(["train", "--seed", "0"]) != distributed.digest(
        ["train", "--seed", "1"]
    )


def test_under_torchrun_cuda_means_this_ranks_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in LAUNCH.items():
        monkeypatch.setenv(name, value)
    assert runtime._cuda_index("cuda") == 1
    with pytest.raises(MedaugError, match="use --device cuda"):
        runtime._cuda_index("cuda:0")


@pytest.mark.parametrize(("n", "world"), [(7, 3), (5, 2), (2, 4), (8, 2)])
def test_shards_cover_the_order_in_equal_parts(n: int, world: int) -> None:
    order = torch.randperm(n, generator=torch.Generator().manual_seed(n))
    parts = [shard(order, r, world) for r in range(world)]
    assert len({len(p) for p in parts}) == 1  # every rank takes the same number of steps
    assert set(torch.cat(parts).tolist()) == set(range(n))
    assert sum(len(p) for p in parts) == -(-n // world) * world


def test_state_digest_sees_every_weight_and_buffer() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    before = state_digest(model)
    assert state_digest(model.state_dict()) == before
    model[1].running_mean += 1e-6
    assert state_digest(model) != before


def test_data_digest_tells_different_data_apart() -> None:
    x = torch.rand(6, 1, 8, 8)
    y = torch.tensor([0, 1, 0, 1, 0, 1])
    a = TensorData(x, y, ["A", "B"])
    assert data_digest(a) == data_digest(TensorData(x.clone(), y.clone(), ["A", "B"]))
    assert data_digest(a) != data_digest(TensorData(x, 1 - y, ["A", "B"]))
    assert data_digest(a) != data_digest(TensorData(x + 0.5, y, ["A", "B"]))


def test_square_root_learning_rate_rule() -> None:
    assert scaled_lr(1e-3, 1) == 1e-3
    assert scaled_lr(1e-3, 4) == pytest.approx(2e-3)


def test_a_broken_link_between_ranks_is_described_as_such() -> None:
    lost = describe_failure(torch.distributed.DistNetworkError("Connection closed by peer"))
    assert lost.startswith("lost contact with the other ranks")
    other = describe_failure(ValueError("bad [thing]"))
    assert other == "ValueError: bad [thing] (run 'medaug --debug ...' for the traceback)"


@pytest.mark.usefixtures("no_launch")
def test_error_lines_keep_square_brackets(capsys: pytest.CaptureFixture[str]) -> None:
    report_error("cannot open [/data/x.dcm]: [Errno 2]")
    assert capsys.readouterr().err.strip() == "Error: cannot open [/data/x.dcm]: [Errno 2]"


@pytest.mark.parametrize(
    ("code", "status", "stderr"), [(None, 0, ""), (3, 3, ""), ("stopped: bad input", 1, "stopped")]
)
def test_exit_process_flushes_and_keeps_sys_exit_statuses(
    code: int | str | None, status: int, stderr: str, tmp_path: Path
) -> None:
    """``exit_process`` ends like ``sys.exit(code)`` (how a torchrun rank leaves without
    finalizing the interpreter), with buffered output and log records written first."""
    log = tmp_path / "log.txt"
    script = (
        "import logging, sys\n"
        "from medaug.distributed import exit_process\n"
        f"logging.basicConfig(stream=open({str(log)!r}, 'w'), level=logging.INFO)\n"
        "logging.info('logged')\n"
        "sys.stdout.write('printed')\n"  # no newline, into a pipe: still buffered
        f"exit_process({code!r})\n"
        "print('never')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == status
    assert done.stdout == "printed"
    assert stderr in done.stderr and "Traceback" not in done.stderr
    assert log.read_text().strip() == "INFO:root:logged"
