"""Device resolution, seeding and CPU threads shared by every command.

Threads: PyTorch sizes its intra-op thread pool from the machine's cores, so two jobs on
the same cores (or N torchrun ranks on one machine) each start a full pool and slow each
other down. :func:`configure_threads` sizes it from the cores this process may use
instead: its CPU affinity and cgroup CPU quota (``joblib.cpu_count``, physical cores
when nothing restricts the process), divided among the torchrun ranks of this machine.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import sys
from collections.abc import MutableMapping
from typing import TYPE_CHECKING

from medaug import distributed
from medaug.errors import ConfigError, MedaugError

if TYPE_CHECKING:
    import torch

DEVICE_CHOICES = "auto|cpu|cuda|cuda:N"
_DEVICE_RE = re.compile(r"^(auto|cpu|cuda(:\d+)?|mps)$")


def resolve_device(spec: str | torch.device | None = "auto") -> torch.device:
    """Turn ``auto|cpu|cuda|cuda:N`` into a usable :class:`torch.device`.

    ``auto`` (or ``None``) picks CUDA when present, else the CPU. Asking for CUDA on a
    machine without it, or for a GPU index that does not exist, is a clear error.
    """
    import torch

    if isinstance(spec, torch.device):
        return spec
    text = (spec or "auto").strip().lower()
    if not _DEVICE_RE.match(text):
        raise MedaugError(f"invalid device {spec!r}: expected {DEVICE_CHOICES}")
    if text == "auto":
        if not torch.cuda.is_available():
            return torch.device("cpu")
        if not distributed.launched():
            return torch.device("cuda")
        text = "cuda"
    if text.startswith("cuda"):
        if not torch.cuda.is_available():
            raise MedaugError(f"device {text!r} requested but CUDA is not available here")
        index = _cuda_index(text)
        if index >= torch.cuda.device_count():
            raise MedaugError(
                f"device {text!r} requested but only {torch.cuda.device_count()} GPU(s) exist"
            )
        return torch.device("cuda", index)
    if text == "mps" and not torch.backends.mps.is_available():
        raise MedaugError("device 'mps' requested but MPS is not available here")
    return torch.device(text)


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch (all devices); return a CPU generator seeded alike."""
    import numpy as np
    import torch

    if seed < 0:
        raise MedaugError(f"seed must be >= 0, got {seed}")
    os.environ.setdefault("PYTHONHASHSEED", str(seed))
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def _cuda_index(text: str) -> int:
    """The GPU index of ``cuda`` / ``cuda:N``: under torchrun, plain ``cuda`` is the
    process's own GPU (``LOCAL_RANK``) and a fixed index is refused when several
    processes share the machine."""
    launch = distributed.detect()
    if ":" not in text:
        return launch.local_rank if launch is not None else 0
    if launch is not None and launch.local_world_size > 1:
        raise MedaugError(
            f"device {text!r} under torchrun: use --device cuda (or auto), so that each "
            "process takes its own GPU (cuda:LOCAL_RANK)"
        )
    return int(text.split(":")[1])


def prefer_passive_openmp_wait(environ: MutableMapping[str, str] | None = None) -> None:
    """Make OpenMP threads sleep, not spin, while they wait for work
    (``OMP_WAIT_POLICY=PASSIVE``), unless the user set ``OMP_WAIT_POLICY`` or
    ``GOMP_SPINCOUNT``. Takes effect only before torch is first imported.

    Spinning threads burn the cores that other jobs (and the other threads of this one)
    need: on a busy 2-core machine, two concurrent 2-thread trainings each ran 3.5x
    slower spinning than sleeping (docs/scaling.md).
    """
    env = os.environ if environ is None else environ
    if "OMP_WAIT_POLICY" not in env and "GOMP_SPINCOUNT" not in env:
        env["OMP_WAIT_POLICY"] = "PASSIVE"


def usable_cpus() -> int:
    """CPU cores this process may use: the fewest of its affinity mask, its cgroup CPU
    quota (rounded up) and the machine's physical cores (logical cores where ``lscpu``
    cannot tell them apart on Linux); at least 1."""
    from joblib import cpu_count

    physical = sys.platform != "linux" or shutil.which("lscpu") is not None
    return max(1, int(cpu_count(only_physical_cores=physical)))


def default_threads(local_world_size: int = 1) -> int:
    """Intra-op threads for one of ``local_world_size`` processes sharing this machine:
    :func:`usable_cpus` divided among them, at least 1."""
    return max(1, usable_cpus() // max(1, local_world_size))


def configure_threads(threads: int = 0) -> int:
    """Size PyTorch's intra-op thread pool and return the size used.

    ``threads`` > 0 is used as given (``--threads N``); 0 means
    :func:`default_threads` for this machine's torchrun processes (1 without torchrun).
    """
    import torch

    if threads < 0:
        raise ConfigError(f"{{threads}} must be >= 0 (0: automatic), got {threads}", "threads")
    n = threads or default_threads(distributed.local_world_size())
    torch.set_num_threads(n)
    return n
