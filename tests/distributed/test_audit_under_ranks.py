"""The audit's FID/KID stay on the rank that computes them: under torchrun the ranks audit
different seeds or classes, and a metric that synchronised across the process group would
mix their features or wait forever for a rank with nothing to audit (it did: torchmetrics
syncs on ``compute()`` by default)."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def _rank(rank: int, store: str, done: mp.synchronize.Event, out: mp.queues.Queue) -> None:
    import torch
    import torch.distributed as dist

    from medaug.auditing.distances import frechet_distance, kernel_distance

    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=2)
    try:
        if rank == 0:  # only rank 0 has something to audit
            gen = torch.Generator().manual_seed(0)
            real, fake = torch.randn(64, 8, generator=gen), torch.randn(64, 8, generator=gen) + 1
            fid = frechet_distance(real, fake)
            kid, _ = kernel_distance(real, fake, subsets=3, subset_size=16, seed=0)
            out.put((fid, kid))
            done.set()
        else:
            done.wait(timeout=120)
    finally:
        dist.destroy_process_group()


def test_one_rank_audits_alone_without_waiting_for_the_others(tmp_path: Path) -> None:
    import torch

    from medaug.auditing.distances import frechet_distance

    ctx = mp.get_context("spawn")
    done, out = ctx.Event(), ctx.Queue()
    store = str(tmp_path / "store")
    procs = [ctx.Process(target=_rank, args=(r, store, done, out)) for r in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=150)
    hung = [p.pid for p in procs if p.is_alive()]
    for p in procs:
        if p.is_alive():
            p.kill()
    assert not hung, "a rank waited for the others inside the audit's metrics"
    assert [p.exitcode for p in procs] == [0, 0]
    fid, kid = out.get(timeout=5)
    gen = torch.Generator().manual_seed(0)
    real, fake = torch.randn(64, 8, generator=gen), torch.randn(64, 8, generator=gen) + 1
    assert fid == pytest.approx(frechet_distance(real, fake))  # its own features only
    assert fid > 1 and kid > 0
