"""Several processes, one run: ``torchrun`` launches and the ``torch.distributed`` calls
medaug makes.

``torchrun --nproc_per_node N -m medaug COMMAND ...`` starts N copies of medaug and tells
each, through its environment (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``,
``LOCAL_WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT``), who it is. :func:`detect` reads
that; :func:`session` (or :func:`init` / :func:`shutdown`) sets up and tears down the
process group: ``nccl`` for CUDA tensors and ``gloo`` for CPU tensors on a machine with
CUDA (``"cpu:gloo,cuda:nccl"``), ``gloo`` alone elsewhere; each process takes the GPU
``cuda:LOCAL_RANK``.

Without torchrun (or before :func:`init`) every helper here is a single-process no-op:
:func:`rank` is 0, :func:`world_size` 1, :func:`is_main` true, :func:`broadcast_object`
returns its argument, :func:`all_gather_object` a one-element list, :func:`barrier` and
:func:`check_same_on_all_ranks` do nothing, and :func:`rank_seed` returns the seed. Nothing
here imports torch unless the process was launched by torchrun.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

from medaug.errors import MedaugError

T = TypeVar("T")

#: the variables torchrun sets for every process it starts
LAUNCH_VARIABLES: tuple[str, ...] = (
    "RANK",
    "WORLD_SIZE",
    "LOCAL_RANK",
    "LOCAL_WORLD_SIZE",
    "MASTER_ADDR",
    "MASTER_PORT",
)

_created_group = False


class InconsistentRanksError(MedaugError):
    """The ranks of one launch disagree (arguments, data or weights)."""


class RankFailedError(MedaugError):
    """Another rank of the launch failed first; its own error names the cause."""


@dataclass(frozen=True)
class Launch:
    """Who this process is in a torchrun launch (from its environment)."""

    rank: int
    world_size: int
    local_rank: int
    local_world_size: int
    master_addr: str
    master_port: int

    @property
    def is_main(self) -> bool:
        """Rank 0: the process that writes files and prints."""
        return self.rank == 0


def detect(environ: Mapping[str, str] | None = None) -> Launch | None:
    """The :class:`Launch` described by ``environ`` (default ``os.environ``), or ``None``
    when the process was not started by torchrun (no ``RANK`` / ``WORLD_SIZE``)."""
    env = os.environ if environ is None else environ
    if "RANK" not in env or "WORLD_SIZE" not in env:
        return None
    missing = [name for name in ("MASTER_ADDR", "MASTER_PORT") if not env.get(name)]
    if missing:
        raise MedaugError(
            f"RANK and WORLD_SIZE are set but {' and '.join(missing)} not: start medaug "
            "with torchrun (torchrun --nproc_per_node N -m medaug ...)"
        )
    try:
        world = int(env["WORLD_SIZE"])
        launch = Launch(
            rank=int(env["RANK"]),
            world_size=world,
            local_rank=int(env.get("LOCAL_RANK", env["RANK"])),
            local_world_size=int(env.get("LOCAL_WORLD_SIZE", world)),
            master_addr=env["MASTER_ADDR"],
            master_port=int(env["MASTER_PORT"]),
        )
    except ValueError as exc:
        shown = ", ".join(f"{k}={env.get(k)!r}" for k in LAUNCH_VARIABLES if k in env)
        raise MedaugError(f"torchrun variables are not integers ({shown})") from exc
    if not (
        0 <= launch.rank < launch.world_size and 0 <= launch.local_rank < launch.local_world_size
    ):
        raise MedaugError(
            f"torchrun variables are inconsistent: RANK={launch.rank} "
            f"WORLD_SIZE={launch.world_size} LOCAL_RANK={launch.local_rank} "
            f"LOCAL_WORLD_SIZE={launch.local_world_size}"
        )
    return launch


def launched() -> bool:
    """Whether torchrun started this process (its variables are set)."""
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ


def default_backend() -> str:
    """``"cpu:gloo,cuda:nccl"`` where CUDA and NCCL are present, else ``"gloo"``."""
    import torch
    import torch.distributed as dist

    if torch.cuda.is_available() and dist.is_nccl_available():
        return "cpu:gloo,cuda:nccl"
    return "gloo"


def init(backend: str | None = None) -> Launch | None:
    """Join the process group of a torchrun launch (``env://`` rendezvous); ``None`` and
    nothing done when not launched by torchrun. Calling it again is harmless.

    ``backend`` defaults to :func:`default_backend`; with CUDA, this process's current
    GPU becomes ``cuda:LOCAL_RANK``. A failed rendezvous is a one-line
    :class:`~medaug.errors.MedaugError`.
    """
    global _created_group
    launch = detect()
    if launch is None:
        return None
    import torch
    import torch.distributed as dist

    if not dist.is_available():
        raise MedaugError("this PyTorch build has no torch.distributed: cannot run under torchrun")
    if dist.is_initialized():
        return launch
    chosen = backend or default_backend()
    if "nccl" in chosen:
        if launch.local_rank >= torch.cuda.device_count():
            raise MedaugError(
                f"LOCAL_RANK {launch.local_rank} has no GPU: only "
                f"{torch.cuda.device_count()} visible here (use --nproc_per_node "
                f"{torch.cuda.device_count()} or fewer)"
            )
        torch.cuda.set_device(launch.local_rank)
    try:
        dist.init_process_group(backend=chosen, init_method="env://")
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise MedaugError(
            f"cannot join the torchrun process group (rank {launch.rank} of "
            f"{launch.world_size}, {launch.master_addr}:{launch.master_port}): {first}"
        ) from exc
    _created_group = True
    return launch


def shutdown() -> None:
    """Leave the process group that :func:`init` created (no-op otherwise)."""
    global _created_group
    if not _created_group:
        return
    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()
    _created_group = False


def exit_process(code: int | str | None = 0) -> NoReturn:
    """End this process now, after :func:`shutdown`, as ``sys.exit(code)`` would, but
    without finalizing the interpreter: the standard streams and logging handlers are
    flushed, then ``os._exit``.

    Under torchrun, with the Gloo backend, a rank that returns normally can abort at the
    very end ("terminate called without an active exception", SIGABRT) although all its
    work is done. Gloo's worker threads free the tensors of a finished collective after
    the caller has been told it finished; freeing a tensor made in Python takes the GIL,
    and once the main thread is finalizing the interpreter a thread that asks for the
    GIL is ended, which aborts the process (torch 2.14; ``destroy_process_group`` does
    not wait for those threads). It happened in 3 of 41 two-rank ``balance`` runs on a
    loaded 2-core machine, and in none of 60 runs that left this way. Leaving without
    finalization is safe once every file is written and closed and the process group is
    destroyed, which is when medaug calls it.
    """
    status = 0
    if isinstance(code, str):
        print(code, file=sys.stderr)
        status = 1
    elif code is not None:
        status = int(code)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    logging.shutdown()
    os._exit(status)


@contextmanager
def session(backend: str | None = None) -> Iterator[Launch | None]:
    """:func:`init` on entry; on exit, :func:`shutdown` when this call created the group.

    Nested sessions (a script that opened one, then medaug's CLI) share the outer one.
    """
    owner = not is_initialized()
    launch = init(backend)
    try:
        yield launch
    finally:
        if owner:
            shutdown()


def is_initialized() -> bool:
    """Whether a process group is active (never imports torch)."""
    dist = sys.modules.get("torch.distributed")
    return bool(dist is not None and dist.is_available() and dist.is_initialized())


def rank() -> int:
    """This process's rank in the active process group (0 without one)."""
    if not is_initialized():
        return 0
    import torch.distributed as dist

    return int(dist.get_rank())


def world_size() -> int:
    """Processes in the active process group (1 without one)."""
    if not is_initialized():
        return 1
    import torch.distributed as dist

    return int(dist.get_world_size())


def local_rank() -> int:
    """This process's rank on its machine (``LOCAL_RANK``; 0 when not launched)."""
    launch = detect()
    return launch.local_rank if launch is not None else 0


def local_world_size() -> int:
    """Processes of the launch on this machine (``LOCAL_WORLD_SIZE``; 1 when not launched)."""
    launch = detect()
    return launch.local_world_size if launch is not None else 1


def is_main() -> bool:
    """Whether this process is rank 0 (always true without a process group)."""
    return rank() == 0


def barrier() -> None:
    """Wait until every rank reaches this point (no-op in a single process)."""
    if world_size() > 1:
        import torch.distributed as dist

        dist.barrier()


def broadcast_object(obj: T, src: int = 0) -> T:
    """Rank ``src``'s ``obj`` (picklable) on every rank; ``obj`` itself in a single process."""
    if world_size() == 1:
        return obj
    import torch.distributed as dist

    box: list[Any] = [obj]
    dist.broadcast_object_list(box, src=src)
    return box[0]


def all_gather_object(obj: T) -> list[T]:
    """Every rank's ``obj`` (picklable), in rank order; ``[obj]`` in a single process."""
    if world_size() == 1:
        return [obj]
    import torch.distributed as dist

    out: list[Any] = [None] * world_size()
    dist.all_gather_object(out, obj)
    return out


def digest(obj: Any) -> str:
    """A SHA-256 hex digest of ``obj`` through canonical JSON (keys sorted; other objects
    by ``repr``): equal settings give equal digests on every machine."""
    text = json.dumps(obj, sort_keys=True, default=repr, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_same_on_all_ranks(obj: Any, what: str, *, hint: str = "") -> None:
    """Raise :class:`InconsistentRanksError` on every rank when ``obj`` (or its
    :func:`digest`; a ``str`` is compared as is) is not the same on all ranks.

    The one-line message names the first rank that differs from rank 0 and ``what``
    was compared; ``hint`` says what to do. A no-op in a single process.
    """
    if world_size() == 1:
        return
    mine = obj if isinstance(obj, str) else digest(obj)
    digests = all_gather_object(mine)
    differing = [r for r, d in enumerate(digests) if d != digests[0]]
    if differing:
        more = f" (and {len(differing) - 1} more)" if len(differing) > 1 else ""
        raise InconsistentRanksError(
            f"ranks disagree on {what}: rank {differing[0]}{more} differs from rank 0"
            + (f"; {hint}" if hint else "")
        )


def rank_seed(seed: int, rank_: int | None = None) -> int:
    """The seed of rank ``rank_`` (default: this rank) derived from ``seed``.

    Rank 0 keeps ``seed`` itself, so a single-process run and rank 0 draw alike; rank
    ``r > 0`` gets an independent 32-bit seed from NumPy's ``SeedSequence((seed, r))``.
    Use it for what should differ between ranks (augmentation, dropout), and ``seed``
    for what must not (weight initialisation, the shared batch order).
    """
    r = rank() if rank_ is None else rank_
    if r == 0:
        return seed
    import numpy as np

    return int(np.random.SeedSequence((seed, r)).generate_state(1)[0])


@contextmanager
def main_first(*, local: bool = True) -> Iterator[None]:
    """Run the block on the first rank of each machine (``local``) or on rank 0 alone,
    then on the others: e.g. decode a dataset into the cache once, read it everywhere.

    When a first rank fails in the block, the others do not run it: they raise
    :class:`RankFailedError` naming that rank, while it raises its own error.
    """
    if world_size() == 1:
        yield
        return
    first = local_rank() == 0 if local else is_main()
    if first:
        try:
            yield
        except BaseException as exc:
            all_gather_object(type(exc).__name__)
            raise
        all_gather_object(None)
        return
    failed = [r for r, status in enumerate(all_gather_object(None)) if status is not None]
    if failed:
        raise RankFailedError(f"stopped: rank {failed[0]} failed first (its error names the cause)")
    yield
