"""One report of medaug's speed on a GPU, as ratios against plain PyTorch loops (issue 18).

Every figure is measured in the same process, on the same device, in the same run as
its plain reference; variants run interleaved and medians are taken over rounds.

``dcgan``
    Training img/s at 64 and 128 px of the pytorch/examples DCGAN loop
    (``dcgan_throughput.PlainLoop``; at 128 px with the one extra stride-2 block at
    8 x ngf that ``medaug_dcgan.networks`` adds, so the maths match) and of medaug's
    ``dcgan`` plugin with ``-O preset=paper`` (the same maths), built up one step at a
    time: fp32 contiguous, + channels-last, + bf16 autocast, then bf16 with
    ``compile=true`` (channels-last off: inductor picks its own layouts). Each
    variant's ratio to the plain loop, and the gain of each step over the previous one.
``classifier``
    Training img/s and the GPU's busy fraction (NVML utilisation sampled in a background
    thread, mean over the timed epochs; ``null`` on the CPU) of
    ``medaug.training.train_classifier`` against a plain loop (``DataLoader`` with
    worker processes and pinned memory, autocast in the precision medaug picks), both
    with the ``standard`` albumentations pipeline: simple-cnn at 64 px and timm resnet18
    (random weights) at 224 px, on random images. Throughput counts the epochs after the
    first (the first one starts the workers and tunes cuDNN); ``img_per_s_with_start``
    counts all of them. Two rounds (the second only when it fits in the guard), which loop
    goes first alternating; medians over the rounds.
``ddpm``
    Training and sampling img/s of the ``ddpm`` plugin at 64 and 128 px.
``generator_audit``
    ``ddpm`` and ``dcgan`` (their defaults) each trained for ``--gen-seconds`` on the real
    images of ``--train``'s smallest class (``--minority``; the bundled sample without
    ``--train``), at 64 px, batch 64, with ``generator_ablation.train`` (the budget is
    checked between passes over the class; ``train_s`` is the time actually spent), then
    1,000 images of each audited against those real images with
    ``medaug.auditing.audit_sets`` (one ``domain`` extractor for both): FID, KID,
    precision, recall, density, coverage, C2ST AUC, copies flagged, and the real-vs-real
    floor. A sample grid of each goes to ``OUT``.
``demo``
    Wall time of the README's first command, ``medaug balance --generator dcgan`` on the
    bundled sample (cold decode cache), run as a subprocess; goal <= 30 s.
``paper_experiment``
    Wall time of ``benchmarks/paper_experiment.py`` (3 seeds, 64 px) on ``--train`` /
    ``--test``, as a subprocess; goal <= 5 minutes. Skipped without ``--train``/``--test``.

Commands::

    python benchmarks/gpu_report.py --device cuda --out gpu-report/ --gen-seconds 60 \\
        --train ../shared/datasets/chestxray2017/train --test /tmp/dev/test
    python benchmarks/gpu_report.py --gen-seconds 600          # the issue's 10 GPU-minutes
    python benchmarks/gpu_report.py --sections dcgan,classifier # some sections only
    python benchmarks/gpu_report.py --quick --device cpu --out /tmp/gr   # CI smoke test

``--quick`` runs every section with tiny sizes and a few steps (the dcgan comparison at
64 and 128 px with batch 4, the classifiers at 32 px, ddpm at 16 and 32 px, the audit at
32 px on the bundled sample, a 3-step demo at 32 px, the paper experiment at 32 px for
one seed and epoch when ``--train``/``--test`` are given); no ``compile=true`` (its
compilation alone takes longer than the whole quick run), and one torch thread
(``--threads``). It is a check of the code paths, not a measurement: about 30 s on two
busy CPU cores (a minute with ``--train``/``--test``, mostly the paper experiment).

Time on one H200 (estimated, not yet measured): dcgan 1.5-2 min (mostly the compilation
of ``compile=true`` at both sizes), classifier about 1 min, ddpm about 0.5 min, generator
audit 2 x ``--gen-seconds`` + about 0.5 min (sampling, extractor, two audits), demo about
20 s, paper experiment 2-3 min: about 6 minutes + 2 x ``--gen-seconds`` in all, so about 8
with ``--gen-seconds 60`` and 26 with the default 600 (the total grows by 2 s per second
of ``--gen-seconds``, nothing else depends on it). Every section has a time guard
(``--guard SECTION=SECONDS``; defaults in :class:`Settings`): an in-process section stops
between rounds once its guard is spent (status ``truncated``, and what was cut) and is
aborted at 1.25 x the guard + 15 s (status ``error``, with what it had measured so far);
the subprocesses are killed, with their workers, at their guard.

Prints ONE JSON object on stdout (also ``OUT/report.json``): ``machine`` (card, torch,
CUDA, cuDNN), ``settings``, ``sections`` (each with ``status``: ok, truncated, skipped or
error; ``error`` as a string; ``wall_s``; ``guard_s``; its figures), ``goals`` (each
target, the measured value and whether it is met) and ``wall_s``. ``OUT`` gets at most
six files: report.json, dcgan_samples.png, ddpm_samples.png, demo.log,
paper_experiment.log (the subprocesses' output).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import itertools
import json
import math
import os
import platform
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from dcgan_throughput import PlainD, PlainG, PlainLoop, _weights_init, medaug_run
from generator_ablation import _row, save_grid
from generator_ablation import train as train_for_budget
from torch import nn

import medaug
from medaug.atomic import atomic_write_json
from medaug.cli.options import parse_key_values

HERE = Path(__file__).resolve().parent
SECTIONS = ("dcgan", "classifier", "ddpm", "generator_audit", "demo", "paper_experiment")
#: the goals of issue 18
DEMO_GOAL_S = 30.0
PAPER_GOAL_S = 300.0
RATIO_GOAL = 1.0


@dataclass(frozen=True)
class Settings:
    """Sizes and lengths of every section (:data:`FULL` or :data:`QUICK`)."""

    dcgan_sizes: tuple[int, ...] = (64, 128)
    dcgan_batch: int = 64
    #: ngf = ndf of both loops (64: the paper's DCGAN)
    dcgan_width: int = 64
    dcgan_steps: int = 100
    dcgan_warmup: int = 10
    dcgan_rounds: int = 3
    dcgan_compile: bool = True
    #: name -> (classifier, image size, images, epochs, batch size)
    classifiers: dict[str, tuple[str, int, int, int, int]] = field(
        default_factory=lambda: {
            "simple-cnn": ("simple-cnn", 64, 8192, 4, 64),
            "timm:resnet18": ("timm:resnet18", 224, 4096, 4, 64),
        }
    )
    classifier_rounds: int = 2
    ddpm_sizes: tuple[int, ...] = (64, 128)
    ddpm_batch: int = 64
    ddpm_steps: int = 30
    ddpm_warmup: int = 3
    ddpm_rounds: int = 2
    ddpm_samples: int = 128
    ddpm_options: dict[str, Any] = field(default_factory=dict)
    gen_size: int = 64
    gen_batch: int = 64
    gen_samples: int = 1000
    gen_seconds: float = 600.0
    #: ``AuditSettings`` fields and ``domain`` extractor options of the audit
    audit_settings: dict[str, Any] = field(default_factory=dict)
    extractor_options: dict[str, Any] = field(default_factory=dict)
    demo_args: tuple[str, ...] = ()
    #: torch CPU threads of this process and the demo (``None``: torch's default)
    threads: int | None = None
    paper_args: tuple[str, ...] = ()
    guards: dict[str, float] = field(
        default_factory=lambda: {
            "dcgan": 240.0,
            "classifier": 90.0,
            "ddpm": 90.0,
            "generator_audit": 150.0,  # + 2 x gen_seconds
            "demo": 90.0,
            "paper_experiment": 420.0,
        }
    )


FULL = Settings()
QUICK = Settings(
    dcgan_batch=4,
    dcgan_width=8,
    dcgan_steps=2,
    dcgan_warmup=1,
    dcgan_rounds=1,
    dcgan_compile=False,
    classifiers={
        "simple-cnn": ("simple-cnn", 32, 64, 2, 16),
        "timm:resnet18": ("timm:resnet18", 32, 32, 2, 16),
    },
    classifier_rounds=1,
    ddpm_sizes=(16, 32),
    ddpm_batch=4,
    ddpm_steps=2,
    ddpm_warmup=1,
    ddpm_rounds=1,
    ddpm_samples=4,
    ddpm_options={"width": 8, "sample_steps": 2},
    gen_size=32,
    gen_batch=16,
    gen_samples=24,
    gen_seconds=2.0,
    audit_settings={"subsets": 2, "kid_subsets": 2, "folds": 2},
    extractor_options={"steps": 10},
    demo_args=("--steps", "3", "--batch-size", "8", "--image-size", "32", "--no-audit"),
    paper_args=("--quick", "--seeds", "1", "--epochs", "1", "--gen-steps", "3"),
    threads=1,
    guards={
        "dcgan": 60.0,
        "classifier": 60.0,
        "ddpm": 30.0,
        "generator_audit": 60.0,
        "demo": 60.0,
        "paper_experiment": 300.0,
    },
)
QUICK_PAPER_SIZE = ("--image-size", "32")


# -- running sections under a time guard ------------------------------------------------------


class SectionTimeout(Exception):
    """A section ran past its hard time limit."""


@contextlib.contextmanager
def hard_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`SectionTimeout` in this (main) thread after ``seconds``."""
    if not hasattr(signal, "SIGALRM") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise SectionTimeout(f"hard time limit of {seconds:.0f} s reached")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class Section:
    """One section's results (filled in as it goes, so a failure keeps what was done)."""

    name: str
    guard_s: float
    result: dict[str, Any]
    started: float = field(default_factory=time.perf_counter)

    def left(self) -> float:
        return self.guard_s - (time.perf_counter() - self.started)

    def expired(self, what: str) -> bool:
        """Whether the guard is spent; if so, say what was cut."""
        return not self.room_for(0.0, what)

    def room_for(self, seconds: float, what: str) -> bool:
        """Whether ``seconds`` more fit in the guard; if not, say what was cut."""
        if self.left() >= seconds:
            return True
        self.result["status"] = "truncated"
        self.result.setdefault("truncated", []).append(what)
        return False

    def skip(self, reason: str) -> None:
        self.result["status"] = "skipped"
        self.result["reason"] = reason


@dataclass
class Context:
    """What every section reads: the parsed arguments, device, settings and output folder."""

    args: argparse.Namespace
    device: torch.device
    settings: Settings
    out: Path
    files: list[str] = field(default_factory=list)


def run_section(ctx: Context, name: str, func: Callable[[Context, Section], None]) -> dict:
    """``func`` under its guard; errors are recorded as strings, never raised."""
    guard = float(ctx.settings.guards[name])
    if name == "generator_audit":
        guard += 2 * ctx.settings.gen_seconds
    result: dict[str, Any] = {"status": "ok", "guard_s": guard}
    section = Section(name, guard, result)
    print(f"[gpu_report] {name} (guard {guard:.0f} s)", file=sys.stderr, flush=True)
    try:
        with hard_limit(1.25 * guard + 15), contextlib.redirect_stdout(sys.stderr):
            func(ctx, section)
    except Exception as exc:
        result["status"] = "error"
        result["error"] = f"{type(exc).__name__}: {exc}"
        result["traceback"] = traceback.format_exc().strip().splitlines()[-6:]
    finally:
        result["wall_s"] = round(time.perf_counter() - section.started, 2)
        gc.collect()
        if ctx.device.type == "cuda":
            torch.cuda.empty_cache()
    return result


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _median_rate(count: int, seconds: list[float]) -> float | None:
    return round(count / statistics.median(seconds), 2) if seconds else None


def _median(values: list[Any]) -> float | None:
    """The median of the values that are not ``None`` (``None`` if there are none)."""
    known = [v for v in values if v is not None]
    return round(statistics.median(known), 3) if known else None


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a and b else None


# -- dcgan: medaug vs the pytorch/examples loop -----------------------------------------------


def plain_networks(
    image_size: int, nc: int = 1, nz: int = 100, width: int = 64
) -> tuple[PlainG, PlainD]:
    """The pytorch/examples ``netG``/``netD`` (``PlainG``/``PlainD``: 64 px, ngf = ndf =
    ``width``), with one more stride-2 block at the 8 x width per doubling above 64 px,
    where ``medaug_dcgan.networks`` puts it: in G right after the 4x4 layer, in D right
    before the final 4x4 convolution (medaug caps its widths at 8 x ngf / 8 x ndf)."""
    extra = math.log2(image_size / 64)
    if extra < 0 or extra != int(extra):
        raise ValueError(f"the plain loop runs at 64 px x 2^k, got {image_size}")
    g, d = PlainG(nc, nz, width), PlainD(nc, width)
    wide = 8 * width
    g_extra: list[nn.Module] = []
    d_extra: list[nn.Module] = []
    for _ in range(int(extra)):
        g_extra += [
            nn.ConvTranspose2d(wide, wide, 4, 2, 1, bias=False),
            nn.BatchNorm2d(wide),
            nn.ReLU(True),
        ]
        d_extra += [
            nn.Conv2d(wide, wide, 4, 2, 1, bias=False),
            nn.BatchNorm2d(wide),
            nn.LeakyReLU(0.2, inplace=True),
        ]
    g.main = nn.Sequential(*g.main[:3], *g_extra, *g.main[3:])
    d.main = nn.Sequential(*d.main[:-2], *d_extra, *d.main[-2:])
    return g, d


class PlainLoopAt(PlainLoop):
    """:class:`dcgan_throughput.PlainLoop` (the example's loop) at ``image_size``, with
    ngf = ndf = ``width``."""

    def __init__(self, device: torch.device, image_size: int, width: int = 64) -> None:
        super().__init__(device)
        if (image_size, width) != (64, 64):
            self.netG, self.netD = plain_networks(image_size, width=width)
            self.netG.to(device)
            self.netD.to(device)
            self.netG.apply(_weights_init)
            self.netD.apply(_weights_init)
            self.optD = torch.optim.Adam(self.netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
            self.optG = torch.optim.Adam(self.netG.parameters(), lr=2e-4, betas=(0.5, 0.999))


def dcgan_variants(compile_too: bool, width: int = 64) -> dict[str, dict[str, Any]]:
    """The paper preset built up one step at a time (each adds to the one before)."""
    paper = {"preset": "paper", "precision": "fp32", "ngf": width, "ndf": width}
    out = {
        "medaug paper fp32 contiguous": {**paper, "channels_last": False},
        "medaug paper fp32 channels_last": {**paper, "channels_last": True},
        "medaug paper bf16 channels_last": {**paper, "channels_last": True, "precision": "bf16"},
    }
    if compile_too:  # channels_last auto: off under compile (inductor picks layouts)
        out["medaug paper bf16 compile"] = {
            **out["medaug paper bf16 channels_last"],
            "channels_last": "auto",
            "compile": True,
        }
    return out


def dcgan_section(ctx: Context, sec: Section) -> None:
    s, device = ctx.settings, ctx.device
    bs, steps = s.dcgan_batch, s.dcgan_steps
    variants = dcgan_variants(s.dcgan_compile, s.dcgan_width)
    if not s.dcgan_compile:
        sec.result["compile_skipped"] = "--quick or --no-compile"
    sec.result.update(
        batch_size=bs, width=s.dcgan_width, steps_per_round=steps, warmup_steps=s.dcgan_warmup
    )
    sizes: dict[str, Any] = sec.result.setdefault("sizes", {})
    gen = torch.Generator().manual_seed(0)
    for size in s.dcgan_sizes:
        if sizes and sec.expired(f"{size} px"):
            break
        row: dict[str, Any] = {"warmup_s": {}}
        sizes[str(size)] = row
        data = torch.rand(bs * max(steps, s.dcgan_warmup), 1, size, size, generator=gen) * 2 - 1
        t0 = time.perf_counter()
        plain = PlainLoopAt(device, size, s.dcgan_width)
        plain.run(data, bs, s.dcgan_warmup)
        row["warmup_s"]["plain"] = round(time.perf_counter() - t0, 2)
        gens: dict[str, Any] = {}
        for name, opts in variants.items():
            t0 = time.perf_counter()
            try:
                g = medaug.create_generator(
                    "dcgan", image_size=size, channels=1, device=device, **opts
                )
                medaug_run(g, data, bs, s.dcgan_warmup)
            except Exception as exc:  # one broken variant must not hide the others' figures
                row.setdefault("errors", {})[name] = f"{type(exc).__name__}: {exc}"[:500]
                continue
            row["warmup_s"][name] = round(time.perf_counter() - t0, 2)
            gens[name] = g
        times: dict[str, list[float]] = {"plain": [], **{k: [] for k in gens}}
        for r in range(s.dcgan_rounds):
            if r and sec.expired(f"{size} px rounds after {r}"):
                break
            times["plain"].append(plain.run(data, bs, steps))
            for name, g in gens.items():
                times[name].append(medaug_run(g, data, bs, steps))
        ips = {k: _median_rate(bs * steps, v) for k, v in times.items()}
        names = list(ips)
        row["rounds"] = len(times["plain"])
        row["img_per_s"] = ips
        row["ratio_to_plain"] = {k: _ratio(v, ips["plain"]) for k, v in ips.items() if k != "plain"}
        # each step of the ladder over the one before: channels-last, bf16, compile
        row["gain_over_previous"] = {
            names[i]: _ratio(ips[names[i]], ips[names[i - 1]]) for i in range(2, len(names))
        }
        del gens, plain
        gc.collect()


# -- classifier: train_classifier vs a plain DataLoader + AMP loop ----------------------------


class BusySampler:
    """NVML GPU utilisation (%), sampled every ``period`` s in a background thread."""

    def __init__(self, device: torch.device, period: float = 0.05) -> None:
        self.device, self.period = device, period
        self.samples: list[tuple[float, int]] = []
        self.error: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.samples.append((time.perf_counter(), torch.cuda.utilization(self.device)))
            except Exception as exc:  # no NVML (pynvml) here
                self.error = f"{type(exc).__name__}: {exc}"
                return
            self._stop.wait(self.period)

    def __enter__(self) -> BusySampler:
        if self.device.type == "cuda":
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def mean(self, start: float, end: float) -> float | None:
        """Mean busy fraction (0..1) of the samples between ``start`` and ``end``."""
        values = [u for t, u in self.samples if start <= t <= end]
        return round(statistics.fmean(values) / 100, 3) if values else None


class AugmentedImages(torch.utils.data.Dataset[tuple[torch.Tensor, torch.Tensor]]):
    """One image at a time through an albumentations pipeline (``x`` in ``[0, 1]``)."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, pipeline: Any) -> None:
        self.x, self.y, self.pipeline = x, y, pipeline

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        img = np.ascontiguousarray(self.x[i].permute(1, 2, 0).numpy())
        out = np.asarray(self.pipeline(image=img)["image"], dtype=np.float32).reshape(img.shape)
        return torch.from_numpy(np.clip(out, 0.0, 1.0)).permute(2, 0, 1), self.y[i]


def plain_workers(device: torch.device) -> int:
    """Loader workers of the plain loop: all cores but one (at most 8) on CUDA, none on
    the CPU (there the cores train the model)."""
    from medaug.runtime import usable_cpus

    return max(1, min(8, usable_cpus() - 1)) if device.type == "cuda" else 0


def plain_classifier_run(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    epochs: int,
    batch_size: int,
    device: torch.device,
    dtype: torch.dtype,
    workers: int,
) -> list[float]:
    """Train ``model`` the plain way; return the start time and each epoch's end."""
    from medaug.training.augment import PRESETS

    marks = [time.perf_counter()]
    pipeline = PRESETS["standard"]()

    def seed_worker(worker_id: int) -> None:
        pipeline.set_random_seed(worker_id)

    pipeline.set_random_seed(0)
    loader = torch.utils.data.DataLoader(
        AugmentedImages(x, y, pipeline),
        batch_size=batch_size,
        shuffle=True,
        num_workers=workers,
        pin_memory=device.type == "cuda",
        persistent_workers=workers > 0,
        worker_init_fn=seed_worker,
    )
    counts = torch.bincount(y, minlength=2).float()
    weight = (counts.sum() / (len(counts) * counts)).to(device)
    criterion = nn.CrossEntropyLoss(weight=weight, label_smoothing=0.05)
    mean, std = x.mean().item(), x.std().item()
    model.to(device)
    fused = device.type == "cuda"
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4, fused=fused)
    amp = torch.autocast(device.type, dtype=dtype, enabled=dtype != torch.float32)
    for _ in range(epochs):
        model.train()
        for xb, yb in loader:
            xb = (xb.to(device, non_blocking=True) - mean) / std
            yb = yb.to(device, non_blocking=True)
            with amp:
                loss = criterion(model(xb).float(), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        _sync(device)
        marks.append(time.perf_counter())
    return marks


def medaug_classifier_run(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    epochs: int,
    batch_size: int,
    device: torch.device,
) -> list[float]:
    """``train_classifier`` with the same pipeline; the start time and each epoch's end."""
    from medaug.training import (
        Augmenter,
        Placement,
        RunData,
        TensorData,
        TrainConfig,
        train_classifier,
    )
    from medaug.training.augment import PRESETS

    config = TrainConfig(epochs=epochs, batch_size=batch_size, patience=0, precision="auto")
    marks = [time.perf_counter()]
    train_classifier(
        model,
        RunData(TensorData(x, y, ["a", "b"])),
        config,
        placement=Placement(device),
        augmenter=Augmenter(PRESETS["standard"](), seed=0),
        on_epoch=lambda row: marks.append(time.perf_counter()),
    )
    return marks


def _epoch_figures(marks: list[float], n: int, busy: BusySampler) -> dict[str, Any]:
    """img/s after the first epoch (and over all of them), busy fraction after it."""
    epochs = len(marks) - 1
    steady = marks[-1] - marks[1] if epochs >= 2 else marks[-1] - marks[0]
    steady_n = n * (epochs - 1) if epochs >= 2 else n
    return {
        "img_per_s": round(steady_n / steady, 2),
        "img_per_s_with_start": round(n * epochs / (marks[-1] - marks[0]), 2),
        "busy_fraction": busy.mean(marks[1] if epochs >= 2 else marks[0], marks[-1]),
        "epoch_s": [round(b - a, 3) for a, b in itertools.pairwise(marks)],
    }


def classifier_section(ctx: Context, sec: Section) -> None:
    from medaug.plugins import create_classifier
    from medaug.precision import precision_name, resolve_precision

    s, device = ctx.settings, ctx.device
    dtype = resolve_precision("auto", device)
    workers = plain_workers(device)
    sec.result.update(
        augment="standard", precision=precision_name(dtype), plain_workers=workers, models={}
    )
    gen = torch.Generator().manual_seed(0)
    for label, (name, size, n, epochs, bs) in s.classifiers.items():
        if sec.result["models"] and sec.expired(label):
            break
        x = torch.rand(n, 1, size, size, generator=gen)
        y = (torch.arange(n) % 3 == 0).long()  # 1:2 classes
        row: dict[str, Any] = {"image_size": size, "images": n, "epochs": epochs, "batch": bs}
        sec.result["models"][label] = row
        runs: dict[str, list[dict[str, Any]]] = {"plain": [], "medaug": []}
        last = 0.0
        for r in range(s.classifier_rounds):
            if r and not sec.room_for(last, f"{label} rounds after {r}"):
                break
            t_round = time.perf_counter()
            # alternate who goes first: the first run of a shape pays for warm caches
            for side in ("plain", "medaug") if r % 2 == 0 else ("medaug", "plain"):
                torch.manual_seed(0)
                model = create_classifier(name, num_classes=2, in_chans=1, image_size=size)
                with BusySampler(device) as busy:
                    if side == "plain":
                        marks = plain_classifier_run(
                            model,
                            x,
                            y,
                            epochs=epochs,
                            batch_size=bs,
                            device=device,
                            dtype=dtype,
                            workers=workers,
                        )
                    else:
                        marks = medaug_classifier_run(
                            model, x, y, epochs=epochs, batch_size=bs, device=device
                        )
                runs[side].append(_epoch_figures(marks, n, busy))
                if busy.error:
                    row["busy_error"] = busy.error
                del model
                gc.collect()
            last = time.perf_counter() - t_round
        for side, figs in runs.items():
            row[side] = {
                key: _median([f[key] for f in figs]) for key in figs[0] if key != "epoch_s"
            }
            row[side]["rounds"] = figs
        row["ratio"] = _ratio(row["medaug"]["img_per_s"], row["plain"]["img_per_s"])
        row["ratio_with_start"] = _ratio(
            row["medaug"]["img_per_s_with_start"], row["plain"]["img_per_s_with_start"]
        )


# -- ddpm throughput --------------------------------------------------------------------------


def ddpm_section(ctx: Context, sec: Section) -> None:
    s, device = ctx.settings, ctx.device
    bs, steps = s.ddpm_batch, s.ddpm_steps
    sec.result.update(batch_size=bs, steps_per_round=steps, sample_n=s.ddpm_samples, sizes={})
    gen = torch.Generator().manual_seed(0)
    for size in s.ddpm_sizes:
        if sec.result["sizes"] and sec.expired(f"{size} px"):
            break
        row: dict[str, Any] = {}
        sec.result["sizes"][str(size)] = row
        data = torch.rand(bs * max(steps, s.ddpm_warmup), 1, size, size, generator=gen) * 2 - 1
        g = medaug.create_generator(
            "ddpm", image_size=size, channels=1, device=device, **s.ddpm_options
        )
        row["options"] = g.options()
        medaug_run(g, data, bs, s.ddpm_warmup)
        train: list[float] = []
        for r in range(s.ddpm_rounds):
            if r and sec.expired(f"{size} px training rounds after {r}"):
                break
            train.append(medaug_run(g, data, bs, steps))
        row["train_img_per_s"] = _median_rate(bs * steps, train)
        g.sample(2, seed=0)  # warm-up
        _sync(device)
        t0 = time.perf_counter()
        g.sample(s.ddpm_samples, seed=1)
        row["sample_img_per_s"] = round(s.ddpm_samples / (time.perf_counter() - t0), 2)
        del g
        gc.collect()


# -- ddpm vs dcgan after the same training time: the audit ------------------------------------


def load_minority(
    root: Path, size: int, minority: str | None
) -> tuple[str, torch.Tensor, list[str], dict[str, int]]:
    """The smallest class of ``root`` (or ``minority``): name, images in ``[-1, 1]``,
    patient ids, and every class's count."""
    from medaug.data import load_dataset

    ds = load_dataset(root, image_size=size, channels=1, progress=False)
    counts = ds.counts()
    name = minority or min(counts, key=lambda c: counts[c])
    idx = ds.class_indices(name)
    return name, ds.to_tensor(idx), [str(p) for p in ds.patients[idx]], counts


def generator_audit_section(ctx: Context, sec: Section) -> None:
    from medaug.auditing import (
        AuditSettings,
        ExtractorSpec,
        ImageSet,
        audit_sets,
        prepare_extractor,
    )
    from medaug.balancing.config import sample_data_path

    s, device, args = ctx.settings, ctx.device, ctx.args
    root = args.train if args.train else sample_data_path()
    cls, real, groups, counts = load_minority(root, s.gen_size, args.minority)
    sec.result.update(
        data=str(root) if args.train else "bundled sample",
        counts=counts,
        minority=cls,
        n_real=len(real),
        image_size=s.gen_size,
        batch_size=s.gen_batch,
        budget_s=s.gen_seconds,
        samples=s.gen_samples,
        generators={},
    )
    budget = argparse.Namespace(
        image_size=s.gen_size,
        batch_size=s.gen_batch,
        minutes=s.gen_seconds / 60,
        clock="wall",
        max_steps=None,
        grid_every=0,
        out=None,
        seed=0,
    )
    synthetic: dict[str, torch.Tensor] = {}
    for name, options in (("dcgan", {}), ("ddpm", dict(s.ddpm_options))):
        t0 = time.perf_counter()
        g, figures = train_for_budget(
            name, {"generator": name, **options}, real, args=budget, device=device
        )
        figures["train_s"] = round(time.perf_counter() - t0, 2)
        t0 = time.perf_counter()
        synthetic[name] = g.sample(s.gen_samples, seed=1)
        figures["sample_s"] = round(time.perf_counter() - t0, 2)
        sec.result["generators"][name] = figures
        save_grid(synthetic[name], ctx.out / f"{name}_samples.png")
        ctx.files.append(f"{name}_samples.png")
        del g
        gc.collect()
    t0 = time.perf_counter()
    settings = AuditSettings(seed=0, **s.audit_settings)
    extractor = prepare_extractor(
        ExtractorSpec(options=s.extractor_options or {}), real=real, seed=0, device=device
    )
    sec.result["extractor"] = extractor.label
    sec.result["extractor_s"] = round(time.perf_counter() - t0, 2)
    for name, images in synthetic.items():
        t0 = time.perf_counter()
        audit = audit_sets(
            ImageSet(real, groups=tuple(groups)),
            images,
            extractor=extractor,
            settings=settings,
            name=name,
        )
        sec.result.setdefault("real_halves", _row(audit, baseline=True))
        sec.result["generators"][name]["audit"] = _row(audit)
        sec.result["generators"][name]["audit_s"] = round(time.perf_counter() - t0, 2)


# -- subprocesses: the README demo and the paper experiment -----------------------------------


def _subprocess(cmd: list[str], log: Path, timeout: float, cwd: Path) -> dict[str, Any]:
    """Run ``cmd`` with its output in ``log``; rc (``None`` when killed at ``timeout``).

    The command runs in its own process group, killed whole (its decode and loader
    workers too) at the timeout or when this section is aborted."""
    t0 = time.perf_counter()
    with log.open("w") as fh:
        fh.write("$ " + shlex.join(cmd) + "\n")
        fh.flush()
        proc = subprocess.Popen(
            cmd, stdout=fh, stderr=subprocess.STDOUT, cwd=cwd, start_new_session=True
        )
        rc: int | None = None
        try:
            rc = proc.wait(timeout=timeout)
        except BaseException as exc:  # the timeout, the section's hard limit, Ctrl-C
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            if not isinstance(exc, subprocess.TimeoutExpired):
                raise
    wall = time.perf_counter() - t0
    out: dict[str, Any] = {"command": shlex.join(cmd), "rc": rc, "process_wall_s": round(wall, 2)}
    if rc is None:
        out["timed_out_after_s"] = timeout
    if rc != 0:
        out["log_tail"] = log.read_text(errors="replace").splitlines()[-15:]
    return out


def _threads(ctx: Context) -> list[str]:
    threads = ctx.settings.threads
    return [] if threads is None else ["--threads", str(threads)]


def demo_section(ctx: Context, sec: Section) -> None:
    with tempfile.TemporaryDirectory(prefix="gpu-report-demo-") as tmp:
        cmd = [sys.executable, "-m", "medaug", "balance", "--generator", "dcgan"]
        cmd += ["--out", str(Path(tmp) / "medaug-demo"), "--cache-dir", str(Path(tmp) / "cache")]
        cmd += ["--device", str(ctx.device), *_threads(ctx), *ctx.settings.demo_args]
        run = _subprocess(cmd, ctx.out / "demo.log", sec.guard_s, Path(tmp))
    ctx.files.append("demo.log")
    sec.result.update(run)
    met = run["rc"] == 0 and run["process_wall_s"] <= DEMO_GOAL_S
    sec.result.update(goal_s=DEMO_GOAL_S, goal_met=met)
    if run["rc"] != 0:
        sec.result["status"] = "error"
        sec.result["error"] = "timed out" if run["rc"] is None else f"exit status {run['rc']}"


def paper_section(ctx: Context, sec: Section) -> None:
    args = ctx.args
    if not (args.train and args.test):
        sec.skip("needs --train and --test (ChestXray2017 folders)")
        return
    with tempfile.TemporaryDirectory(prefix="gpu-report-paper-") as tmp:
        cmd = [sys.executable, str(HERE / "paper_experiment.py")]
        cmd += ["--train", str(args.train.resolve()), "--test", str(args.test.resolve())]
        cmd += ["--out", str(Path(tmp) / "paper"), "--device", str(ctx.device)]
        cmd += [*_threads(ctx), *ctx.settings.paper_args]
        run = _subprocess(cmd, ctx.out / "paper_experiment.log", sec.guard_s, Path(tmp))
        results = Path(tmp) / "paper" / "results.json"
        if results.is_file():
            data = json.loads(results.read_text())
            sec.result["experiment"] = {
                "seconds": data.get("seconds"),
                "data": data.get("data"),
                "test_mean_std": {
                    arm: {
                        m: [s.get("mean"), s.get("std")]
                        for m, s in metrics.items()
                        if isinstance(s, dict)
                    }
                    for arm, metrics in data.get("summary", {}).items()
                },
                "sentences": data.get("sentences"),
            }
    ctx.files.append("paper_experiment.log")
    sec.result.update(run)
    met = run["rc"] == 0 and run["process_wall_s"] <= PAPER_GOAL_S
    sec.result.update(goal_s=PAPER_GOAL_S, goal_met=met)
    if run["rc"] != 0:
        sec.result["status"] = "error"
        sec.result["error"] = "timed out" if run["rc"] is None else f"exit status {run['rc']}"


SECTION_FUNCS: dict[str, Callable[[Context, Section], None]] = {
    "dcgan": dcgan_section,
    "classifier": classifier_section,
    "ddpm": ddpm_section,
    "generator_audit": generator_audit_section,
    "demo": demo_section,
    "paper_experiment": paper_section,
}


# -- the report -------------------------------------------------------------------------------


def machine(device: torch.device) -> dict[str, Any]:
    """Card, library versions and the host."""
    from medaug.runtime import usable_cpus

    cuda = device.type == "cuda"
    info: dict[str, Any] = {
        "device": str(device),
        "gpu": torch.cuda.get_device_name(device) if cuda else None,
        "gpu_memory_gib": (
            round(torch.cuda.get_device_properties(device).total_memory / 2**30, 1)
            if cuda
            else None
        ),
        "compute_capability": ".".join(map(str, torch.cuda.get_device_capability(device)))
        if cuda
        else None,
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        "cudnn_benchmark": torch.backends.cudnn.benchmark,
        "cudnn_allow_tf32": torch.backends.cudnn.allow_tf32,
        "matmul_allow_tf32": torch.backends.cuda.matmul.allow_tf32,
        "medaug": medaug.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "usable_cpus": usable_cpus(),
        "torch_threads": torch.get_num_threads(),
    }
    if hasattr(os, "getloadavg"):
        info["load_avg_at_start"] = [round(v, 2) for v in os.getloadavg()]
    return info


def goals(sections: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Every target of issue 18 with its measured value (``None``: not measured)."""
    rows: list[dict[str, Any]] = []

    def add(name: str, value: float | None, target: float, higher: bool) -> None:
        met = None if value is None else (value >= target if higher else value <= target)
        op = ">=" if higher else "<="
        rows.append({"goal": name, "value": value, "target": f"{op} {target:g}", "met": met})

    for size, row in sections.get("dcgan", {}).get("sizes", {}).items():
        ratio = row.get("ratio_to_plain", {}).get("medaug paper fp32 channels_last")
        add(f"dcgan {size} px img/s, medaug paper fp32 / plain", ratio, RATIO_GOAL, True)
    for label, row in sections.get("classifier", {}).get("models", {}).items():
        add(f"classifier {label} img/s, medaug / plain", row.get("ratio"), RATIO_GOAL, True)
    for name, target in (("demo", DEMO_GOAL_S), ("paper_experiment", PAPER_GOAL_S)):
        sec = sections.get(name, {})
        value = sec.get("process_wall_s") if sec.get("rc") == 0 else None
        add(f"{name} wall seconds", value, target, False)
        if sec.get("timed_out_after_s", 0) >= target:  # killed after the goal had passed
            rows[-1]["met"] = False
    return rows


def _clean(value: Any) -> Any:
    """``value`` as strict JSON (non-finite floats become null)."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", help="auto|cpu|cuda|cuda:N")
    parser.add_argument("--train", type=Path, default=None, help="ChestXray2017 train folder")
    parser.add_argument("--test", type=Path, default=None, help="a separate test folder")
    parser.add_argument(
        "--out", type=Path, default=Path("gpu-report"), help="report.json, grids, logs (<= 6 files)"
    )
    parser.add_argument(
        "--gen-seconds",
        type=float,
        default=None,
        help="training budget of ddpm and of dcgan each (default 600; --quick 2)",
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test")
    parser.add_argument(
        "--no-compile",
        action="store_true",
        help="skip the dcgan compile=true variant (its compilation takes about a minute)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch CPU threads here and in the subprocesses (default: torch's; --quick 1)",
    )
    parser.add_argument(
        "--minority", default=None, help="class the generators learn (default: the smallest)"
    )
    parser.add_argument(
        "--sections", default=",".join(SECTIONS), help=f"comma-separated: {','.join(SECTIONS)}"
    )
    parser.add_argument(
        "--ddpm-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="ddpm option for the ddpm and generator_audit sections (JSON values)",
    )
    parser.add_argument(
        "--guard",
        action="append",
        default=[],
        metavar="SECTION=SECONDS",
        help="a section's time guard (generator_audit: on top of 2 x --gen-seconds)",
    )
    parser.add_argument(
        "--paper-args",
        default=None,
        help="arguments for paper_experiment.py instead of the defaults (the full 3-seed "
        'run; --quick: one seed and epoch at 32 px), e.g. --paper-args="--seeds 1 --epochs 2"',
    )
    args = parser.parse_args(argv)
    unknown = sorted(set(args.sections.split(",")) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown sections {unknown}; known: {', '.join(SECTIONS)}")
    if (args.train is None) != (args.test is None):
        parser.error("--train and --test go together")
    for folder in (args.train, args.test):
        if folder is not None and not folder.is_dir():
            parser.error(f"{folder} is not a folder")
    return args


def build_settings(args: argparse.Namespace) -> Settings:
    s = QUICK if args.quick else FULL
    guards = dict(s.guards)
    for key, value in parse_key_values(args.guard, "--guard").items():
        if key not in guards or isinstance(value, bool) or not isinstance(value, int | float):
            raise SystemExit(f"--guard {key}={value}: expected SECTION=SECONDS ({SECTIONS})")
        guards[key] = float(value)
    paper_args = s.paper_args
    if args.quick and args.train:
        paper_args = (*paper_args, *QUICK_PAPER_SIZE)
    if args.paper_args is not None:
        paper_args = tuple(shlex.split(args.paper_args))
    return replace(
        s,
        guards=guards,
        gen_seconds=s.gen_seconds if args.gen_seconds is None else args.gen_seconds,
        ddpm_options={**s.ddpm_options, **parse_key_values(args.ddpm_option, "--ddpm-option")},
        paper_args=paper_args,
        threads=s.threads if args.threads is None else args.threads,
        dcgan_compile=s.dcgan_compile and not args.no_compile,
    )


def main(argv: list[str] | None = None) -> None:
    from medaug.runtime import resolve_device

    started = time.perf_counter()
    args = parse_args(argv)
    settings = build_settings(args)
    device = resolve_device(args.device)
    if settings.threads:
        torch.set_num_threads(settings.threads)
    if device.type == "cuda":  # as pytorch/examples' dcgan and medaug do, for every loop
        torch.backends.cudnn.benchmark = True
    out = args.out.expanduser()
    out.mkdir(parents=True, exist_ok=True)
    ctx = Context(args=args, device=device, settings=settings, out=out)
    report: dict[str, Any] = {
        "report": "medaug gpu_report (issue 18)",
        "command": shlex.join([Path(sys.argv[0]).name, *(sys.argv[1:] if argv is None else argv)]),
        "quick": args.quick,
        "note": "quick: a check of the code paths, not a measurement" if args.quick else None,
        "machine": machine(device),
        "settings": {
            "gen_seconds": settings.gen_seconds,
            "train": str(args.train) if args.train else None,
            "test": str(args.test) if args.test else None,
            "guards_s": settings.guards,
            "ddpm_options": settings.ddpm_options,
            "paper_args": list(settings.paper_args),
            "demo_args": list(settings.demo_args),
            "threads": settings.threads,
        },
        "sections": {},
    }
    wanted = args.sections.split(",")
    for name in SECTIONS:
        if name in wanted:
            report["sections"][name] = run_section(ctx, name, SECTION_FUNCS[name])
        else:
            report["sections"][name] = {
                "status": "skipped",
                "reason": "not in --sections",
                "wall_s": 0.0,
            }
        report["goals"] = goals(report["sections"])
        report["wall_s"] = round(time.perf_counter() - started, 2)
        report["files"] = ["report.json", *dict.fromkeys(ctx.files)]
        atomic_write_json(out / "report.json", _clean(report))
    print(json.dumps(_clean(report), indent=2, allow_nan=False))


if __name__ == "__main__":
    main()
