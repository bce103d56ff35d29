"""Thread counts from the cores a process may use, shared among torchrun's local ranks."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import torch

from medaug import distributed, runtime
from medaug.errors import MedaugError


@pytest.fixture(autouse=True)
def _restore_torch_threads() -> Iterator[None]:
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


@pytest.fixture
def eight_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime, "usable_cpus", lambda: 8)


@pytest.mark.usefixtures("eight_cores")
@pytest.mark.parametrize(("local_ranks", "threads"), [(1, 8), (2, 4), (3, 2), (16, 1)])
def test_default_threads_share_the_cores_among_local_ranks(local_ranks: int, threads: int) -> None:
    assert runtime.default_threads(local_ranks) == threads


@pytest.mark.usefixtures("eight_cores")
def test_configure_threads_sets_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in distributed.LAUNCH_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert runtime.configure_threads(0) == 8 and torch.get_num_threads() == 8
    assert runtime.configure_threads(3) == 3 and torch.get_num_threads() == 3
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
    monkeypatch.setenv("MASTER_ADDR", "127.0.0.1")
    monkeypatch.setenv("MASTER_PORT", "29500")
    assert runtime.configure_threads(0) == 4 and torch.get_num_threads() == 4
    with pytest.raises(MedaugError, match=r"^threads must be >= 0"):
        runtime.configure_threads(-1)


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs CPU affinity (Linux)")
def test_usable_cpus_follows_the_affinity_mask() -> None:
    allowed = os.sched_getaffinity(0)
    assert 1 <= runtime.usable_cpus() <= len(allowed)
    os.sched_setaffinity(0, {min(allowed)})
    try:
        assert runtime.usable_cpus() == 1
        assert runtime.default_threads(1) == 1
    finally:
        os.sched_setaffinity(0, allowed)
