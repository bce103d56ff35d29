"""Two real ranks (gloo, CPU) started like torchrun starts them: the collective helpers,
the weight check, main_first, and a command line that differs between the ranks."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.distributed.launching import REPO_ROOT, python, run_ranks

pytestmark = pytest.mark.slow


def test_two_ranks_share_objects_and_refuse_to_go_on_when_they_disagree(
    image_folder: Callable[..., Path], tmp_path: Path
) -> None:
    order = tmp_path / "order.txt"
    data = image_folder({"NORMAL": 4, "PNEUMONIA": 4}, size=16)
    out = tmp_path / "run"
    worker = python(str(REPO_ROOT / "tests" / "distributed" / "rank_worker.py"))
    done = run_ranks([[*worker, str(order), str(data), str(out)]] * 2)
    seen = [json.loads(d.stdout.strip().splitlines()[0]) for d in done]

    assert [s["world_size"] for s in seen] == [2, 2]
    assert [s["is_main"] for s in seen] == [True, False]
    assert [s["broadcast"] for s in seen] == [{"sent_by": 0}, {"sent_by": 0}]
    assert [s["gathered"] for s in seen] == [[0, 10], [0, 10]]
    assert seen[0]["seed"] == 7 and seen[1]["seed"] != 7  # rank 0 keeps --seed
    # DistributedSampler's rule: 5 padded to 6, then every second index
    assert [s["shard"] for s in seen] == [[0, 2, 4], [1, 3, 0]]

    # the weight check: equal weights give one digest, different ones fail on every rank
    assert seen[0]["same_weights"] == seen[1]["same_weights"]
    for s in seen:
        assert s["different_weights"].startswith(
            "ranks disagree on the trained weights: rank 1 differs from rank 0"
        )

    assert order.read_text() == "01"  # main_first: rank 0's block ran first
    # when rank 0 fails in main_first, rank 1 does not run the block and says why
    assert seen[0]["first_failed"] == "cannot read the data"
    assert seen[1]["first_failed"].startswith("stopped: rank 0 failed first")
    assert "ran_after_a_failure" not in seen[1]

    # the command line with --seed RANK: every rank stops with one line naming rank 1
    assert [d.returncode for d in done] == [1, 1], [d.stderr for d in done]
    expected = "ranks disagree on the command line: rank 1 differs from rank 0"
    assert done[0].stderr.strip().startswith(f"Error: {expected}")
    assert done[1].stderr.strip().startswith(f"Error: rank 1: {expected}")
    for d in done:
        assert len(d.stderr.strip().splitlines()) == 1, d.stderr
        assert len(d.stdout.strip().splitlines()) == 1  # the worker's own JSON only
    assert not out.exists()  # stopped before reading data or writing anything
