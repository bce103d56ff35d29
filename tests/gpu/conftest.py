"""The GPU tier: every ``medaug`` command end to end on CUDA, with tiny settings.

Run it on a machine with a GPU::

    pytest tests/gpu

Without CUDA every test here is skipped (one reason, given below). To check the tests
themselves on a machine without a GPU, run the same tests on the CPU::

    MEDAUG_GPU_TIER_DEVICE=cpu pytest tests/gpu

The variable also takes ``cuda`` or ``cuda:N`` (which GPU). Every test takes its device
from the :func:`gpu_device` fixture and hands it to the command line as ``--device``;
the cross-device tests move checkpoints between that device and the CPU (CPU to CPU under
the override). Under the override the ``torchrun`` test does not skip: it launches on the
CPU with the backend medaug picks there (gloo on a machine without CUDA) and checks that
instead of nccl.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

#: names the device the tier runs on instead of the first GPU (``cpu``, ``cuda``, ``cuda:N``)
DEVICE_VARIABLE = "MEDAUG_GPU_TIER_DEVICE"
SKIP_REASON = (
    "GPU tier: CUDA is not available on this machine (run it with a GPU, or set "
    f"{DEVICE_VARIABLE}=cpu to run the same tests on the CPU)"
)
HERE = Path(__file__).resolve().parent
_DEVICE_RE = re.compile(r"^(cpu|cuda(:\d+)?)$")


def tier_device() -> str | None:
    """The device the tier runs on: the override, else ``cuda`` where CUDA is present,
    else ``None`` (the tier is skipped)."""
    override = os.environ.get(DEVICE_VARIABLE, "").strip().lower()
    if override:
        if not _DEVICE_RE.match(override):
            raise pytest.UsageError(
                f"{DEVICE_VARIABLE} must be cpu, cuda or cuda:N; got {override!r}"
            )
        return override
    return "cuda" if torch.cuda.is_available() else None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip the tier's tests at collection when there is no device for them, before any
    fixture runs."""
    ours = [item for item in items if HERE in item.path.parents]
    if ours and tier_device() is None:
        skip = pytest.mark.skip(reason=SKIP_REASON)
        for item in ours:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def gpu_device() -> str:
    """The ``--device`` every command of the tier runs on (``cuda`` unless overridden)."""
    device = tier_device()
    if device is None:
        pytest.skip(SKIP_REASON)
    return device


@pytest.fixture(autouse=True)
def _restore_cudnn_benchmark() -> Iterator[None]:
    """``medaug train`` turns cuDNN's autotuner on for its process; in-process runs must
    not hand that setting to the next test."""
    before = torch.backends.cudnn.benchmark
    yield
    torch.backends.cudnn.benchmark = before
