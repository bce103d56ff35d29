"""Helpers of the GPU tier: tiny command lines, and checks of what the commands wrote.

The CLI runner, JSON parsing and manifest reading are the balance tests' own
(:mod:`tests.balance.balance_helpers`); the tiny datasets are :mod:`tests.helpers`'.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

from medaug.generation.checkpoint import CheckpointInfo, build_generator, load_checkpoint
from tests.balance.balance_helpers import class_files, manifest

#: the working size of every command in the tier (the smallest dcgan and ddpm build)
SIZE = 16
#: the narrowest dcgan the presets allow (the width is an option next to any preset)
TINY_DCGAN: tuple[str, ...] = ("-O", "ngf=8", "-O", "ndf=8")
#: a narrow UNet sampled in two DDIM steps
TINY_DDPM: tuple[str, ...] = ("-O", "width=8", "-O", "sample_steps=2")
#: a two-level simple-cnn
TINY_CNN: tuple[str, ...] = ("--classifier-option", "widths=[8,16]")
#: the precisions the AMP on/off tests compare (mixed precision on, and off)
PRECISIONS: tuple[str, ...] = ("fp32", "bf16")


def skip_unless_precision_runs(precision: str, device: str) -> None:
    """Skip where ``device`` cannot run ``precision`` (bf16 on a GPU older than Ampere)."""
    dev = torch.device(device)
    if precision == "bf16" and dev.type == "cuda" and not torch.cuda.is_bf16_supported():
        pytest.skip("this GPU does not support bfloat16")


def balance_args(data: Path, out: Path, device: str, *extra: str, audit: bool = False) -> list[str]:
    """``medaug balance`` of ``data`` into ``out`` on ``device``: two steps per generator."""
    args = ["balance", str(data), "--out", str(out), "--image-size", str(SIZE)]
    args += ["--steps", "2", "--batch-size", "4", "--device", device, "--threads", "1"]
    return [*args, *([] if audit else ["--no-audit"]), *extra]


def train_args(data: Path, out: Path, device: str, classifier: str, *extra: str) -> list[str]:
    """``medaug train`` on ``device``: one epoch of a tiny classifier."""
    args = ["train", str(data), "--classifier", classifier, "--image-size", str(SIZE)]
    args += ["--epochs", "1", "--batch-size", "4", "--val-split", "0.3", "--augment", "light"]
    return [*args, "--out", str(out), "--device", device, "--threads", "1", *extra]


@contextmanager
def computes_on(device: str) -> Iterator[None]:
    """Check that the block ran on ``device``: on CUDA it allocated memory on that GPU; on
    the CPU it allocated nothing on any GPU (a CUDA machine's GPUs stay untouched).

    Counts CUDA allocations (``allocation.all.allocated``), never initialising CUDA
    itself; only in-process commands can be observed this way.
    """
    before = _cuda_allocations()
    yield
    after = _cuda_allocations()
    dev = torch.device(device)
    if dev.type == "cuda":
        index = dev.index if dev.index is not None else torch.cuda.current_device()
        assert after[index] > before[index], f"nothing was computed on {device}"
    else:
        assert after == before, f"a run on {device} allocated memory on a GPU"


def _cuda_allocations() -> list[int]:
    """Allocations made so far on each GPU (zeros before CUDA is initialised)."""
    if not torch.cuda.is_available():
        return []
    return [
        int(torch.cuda.memory_stats(i).get("allocation.all.allocated", 0))
        for i in range(torch.cuda.device_count())
    ]


def same_device(reported: str, requested: str) -> bool:
    """Whether a device a command reports is the one it was asked for (``cuda`` is the
    current GPU, reported as ``cuda:0``)."""
    a, b = torch.device(reported), torch.device(requested)
    if a.type != b.type:
        return False
    if a.type != "cuda":
        return True
    current = torch.cuda.current_device() if torch.cuda.is_available() else 0
    return (a.index if a.index is not None else current) == (
        b.index if b.index is not None else current
    )


def check_images(paths: Sequence[Path], size: int = SIZE) -> None:
    """Every file is a ``size`` px image with some contrast (a generator that produced
    NaN or infinity writes flat images)."""
    assert paths, "no images"
    for path in paths:
        with Image.open(path) as img:
            assert img.size == (size, size), path
            pixels = np.asarray(img, dtype=np.float64)
        assert pixels.std() > 0, f"{path.name} is a flat image"


def synthetic_files(out: Path, cls: str) -> list[Path]:
    """The synthetic images of class ``cls`` in a balance or generate output."""
    return [p for p in class_files(out, cls) if p.name.startswith("synthetic_")]


def pixels(paths: Iterable[Path]) -> dict[str, bytes]:
    """Each image's decoded pixels by file name."""
    out = {}
    for path in paths:
        with Image.open(path) as img:
            out[path.name] = np.asarray(img).tobytes()
    return out


def check_balance(summary: dict[str, Any], out: Path, device: str) -> list[CheckpointInfo]:
    """A complete balance run on ``device``: counts grown to the majority under the
    default share cap (at most as many generated as real images), the synthetic images
    it reports on disk and in the manifest, finite losses, and checkpoints that sample
    finite images on ``device``. Returns the checkpoints' descriptions."""
    assert summary["status"] == "complete"
    assert same_device(summary["device"], device), (summary["device"], device)
    counts, before = summary["counts_after"], summary["counts_before"]
    majority = max(before.values())
    assert counts == {c: min(majority, 2 * n) for c, n in before.items()}, counts
    assert sum(summary["added"].values()) > 0
    for cls, added in summary["added"].items():
        files = synthetic_files(out, cls)
        assert len(files) == added, cls
        if added:
            check_images(files)
    rows = manifest(out)
    assert len(rows) == summary["manifest_rows"] == sum(counts.values())
    assert sum(r["source"] == "synthetic" for r in rows) == sum(summary["added"].values())
    infos = [check_generator(Path(p), device) for p in summary["checkpoints"].values()]
    assert infos, "no checkpoint"
    return infos


def check_generator(path: Path, device: str, n: int = 4) -> CheckpointInfo:
    """The generator checkpoint at ``path``: complete, finite loss history, and rebuilt
    on ``device`` it samples ``n`` finite images in ``[-1, 1]``."""
    info, state = load_checkpoint(path)
    assert info.complete, path
    assert info.history, "no loss history"
    for name, values in info.history.items():
        assert values and all(math.isfinite(v) for v in values), f"{name}: {values}"
    gen = build_generator(info, torch.device(device), state)
    labels = torch.arange(n) % max(1, len(info.class_names)) if gen.conditional else None
    x = gen.sample(n, seed=0, labels=labels)
    assert tuple(x.shape) == (n, info.channels, info.image_size, info.image_size)
    assert torch.isfinite(x).all(), "non-finite samples"
    assert float(x.min()) >= -1 and float(x.max()) <= 1
    return info


def check_metrics(metrics: dict[str, Any], n: int) -> None:
    """Evaluation figures of ``n`` images: finite, in range, a full confusion matrix."""
    assert metrics["n"] == n
    for key in ("accuracy", "balanced_accuracy", "roc_auc"):
        assert 0.0 <= metrics[key] <= 1.0, key
    assert sum(map(sum, metrics["confusion_matrix"])) == n


def check_history(path: Path) -> None:
    """``history.json`` of a training run: every recorded number finite."""
    history = json.loads(path.read_text())
    assert history, "empty history"
    for epoch in history:
        assert math.isfinite(epoch["train_loss"]), epoch
        for key, value in epoch.items():
            if isinstance(value, float):
                assert math.isfinite(value), (key, value)
