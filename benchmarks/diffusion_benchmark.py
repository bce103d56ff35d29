"""Diffusion (``ddpm``) vs GAN (``dcgan``) speed, and how many DDIM steps sampling needs.

``throughput``: training and sampling images per second of medaug's ``ddpm`` plugin
(and of ``dcgan`` in the same process, for a ratio), on random images of the working
size. Variants run interleaved (ddpm, ddpm +option..., dcgan, ddpm, ...) so machine load
hits them alike; medians over ``--rounds``. ``--ddpm-variant KEY=VALUE[,KEY=VALUE]``
adds ddpm option sets (e.g. ``channels_last=true``, ``attention_res=0``).

``steps``: from a trained ``ddpm`` checkpoint (``OUT/checkpoints/<class>.pt`` of
``medaug balance -g ddpm``), the same starting noise is sampled with each DDIM step
count; the table gives seconds per image and the RMS pixel distance (on [-1, 1]) to the
``--reference`` step count, i.e. how far each count is from the converged DDIM result.
With ``--real ROOT/<class>`` each count's images are also audited against that class's
real images (``medaug.auditing.audit_sets``, ``domain`` extractor trained once on them):
FID, precision, recall and coverage per step count, the measurement behind the
``sample_steps`` default.

    python benchmarks/diffusion_benchmark.py throughput                  # CPU, 64 px
    python benchmarks/diffusion_benchmark.py throughput --device cuda --image-size 128
    python benchmarks/diffusion_benchmark.py steps --checkpoint OUT/checkpoints/NORMAL.pt
    python benchmarks/diffusion_benchmark.py steps --checkpoint ... --real DATA/NORMAL --n 500

Prints one JSON object (and writes it to ``--json``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

import medaug
from medaug.generation.checkpoint import build_generator, load_checkpoint


def _parse_variant(text: str) -> dict[str, Any]:
    """``"a=1,b=true"`` -> ``{"a": 1, "b": True}`` (values parsed as JSON when possible)."""
    options: dict[str, Any] = {}
    for part in filter(None, text.split(",")):
        key, _, value = part.partition("=")
        try:
            options[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            options[key.strip()] = value
    return options


def _machine(device: torch.device) -> dict[str, Any]:
    info: dict[str, Any] = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "device": str(device),
    }
    if hasattr(os, "getloadavg"):
        info["load_avg_1min_at_start"] = round(os.getloadavg()[0], 2)
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _timed(device: torch.device, func: Callable[[], object]) -> tuple[float, float]:
    """Wall-clock and process CPU seconds of ``func()`` (CPU time is what a busy shared
    machine distorts least: compare it across runs, wall time within one)."""
    _sync(device)
    wall, cpu = time.perf_counter(), time.process_time()
    func()
    _sync(device)
    return time.perf_counter() - wall, time.process_time() - cpu


def throughput(args: argparse.Namespace, device: torch.device) -> dict[str, Any]:
    """Training and sampling images/s of each variant (medians over rounds)."""
    variants: dict[str, tuple[str, dict[str, Any]]] = {"ddpm": ("ddpm", {})}
    for text in args.ddpm_variant:
        variants[f"ddpm {text}"] = ("ddpm", _parse_variant(text))
    if not args.no_dcgan:
        variants["dcgan"] = ("dcgan", {})
    g = torch.Generator().manual_seed(0)
    size, bs = args.image_size, args.batch_size
    data = torch.rand(bs * args.steps, 1, size, size, generator=g) * 2 - 1
    warm = data[:bs]
    train: dict[str, list[float]] = {k: [] for k in variants}
    sample: dict[str, list[float]] = {k: [] for k in variants}
    train_cpu: dict[str, list[float]] = {k: [] for k in variants}
    sample_cpu: dict[str, list[float]] = {k: [] for k in variants}
    options: dict[str, dict[str, Any]] = {}
    for _ in range(args.rounds):
        for label, (name, opts) in variants.items():
            gen = medaug.create_generator(
                name, image_size=size, channels=1, device=device, num_classes=1, **opts
            )
            options[label] = gen.options()
            gen.fit(warm, epochs=1, batch_size=bs, seed=0)  # warm-up (kernels, allocator)
            fresh = medaug.create_generator(
                name, image_size=size, channels=1, device=device, num_classes=1, **opts
            )
            wall, cpu = _timed(device, lambda g=fresh: g.fit(data, epochs=1, batch_size=bs, seed=0))
            train[label].append(len(data) / wall)
            train_cpu[label].append(len(data) / cpu)
            gen.sample(2, seed=0)
            wall, cpu = _timed(device, lambda g=gen: g.sample(args.sample_n, seed=1))
            sample[label].append(args.sample_n / wall)
            sample_cpu[label].append(args.sample_n / cpu)
    result: dict[str, Any] = {}
    for label in variants:
        result[label] = {
            "train_img_per_s": round(statistics.median(train[label]), 3),
            "sample_img_per_s": round(statistics.median(sample[label]), 3),
            "train_img_per_cpu_s": round(statistics.median(train_cpu[label]), 3),
            "sample_img_per_cpu_s": round(statistics.median(sample_cpu[label]), 3),
            "train_rounds": [round(v, 3) for v in train[label]],
            "sample_rounds": [round(v, 3) for v in sample[label]],
            "options": options[label],
        }
    if "dcgan" in result:
        for label in variants:
            if label != "dcgan":
                result[label]["train_ratio_vs_dcgan"] = round(
                    result[label]["train_img_per_s"] / result["dcgan"]["train_img_per_s"], 4
                )
                result[label]["sample_ratio_vs_dcgan"] = round(
                    result[label]["sample_img_per_s"] / result["dcgan"]["sample_img_per_s"], 6
                )
                result[label]["train_cpu_ratio_vs_dcgan"] = round(
                    result[label]["train_img_per_cpu_s"] / result["dcgan"]["train_img_per_cpu_s"],
                    4,
                )
    return {
        "mode": "throughput",
        "image_size": size,
        "batch_size": bs,
        "train_images": len(data),
        "sample_n": args.sample_n,
        "rounds": args.rounds,
        "results": result,
    }


def steps(args: argparse.Namespace, device: torch.device) -> dict[str, Any]:
    """Seconds per image and RMS distance to the reference for each DDIM step count."""
    info, state = load_checkpoint(args.checkpoint)
    if info.generator != "ddpm":
        raise SystemExit(f"{args.checkpoint} is a {info.generator!r} checkpoint, not ddpm")
    counts = sorted({int(c) for c in args.counts.split(",")} | {args.reference})
    outputs: dict[int, torch.Tensor] = {}
    seconds: dict[int, float] = {}
    for count in counts:
        options = {**info.generator_options, "sample_steps": count}
        gen = build_generator(replace(info, generator_options=options), device, state)
        gen.sample(1, seed=0)
        wall, _ = _timed(
            device, lambda g=gen, c=count: outputs.__setitem__(c, g.sample(args.n, seed=args.seed))
        )
        seconds[count] = wall
    ref = outputs[args.reference]
    audits = _audit_counts(args, info.image_size, info.channels, outputs) if args.real else {}
    rows = []
    for count in counts:
        rms = float((outputs[count] - ref).pow(2).mean(dim=(1, 2, 3)).sqrt().mean())
        rows.append(
            {
                "sample_steps": count,
                "s_per_image": round(seconds[count] / args.n, 4),
                "rms_to_reference": round(rms, 4),
                **audits.get(count, {}),
            }
        )
    return {
        "mode": "steps",
        "checkpoint": str(args.checkpoint),
        "epochs_done": info.epochs_done,
        "image_size": info.image_size,
        "n": args.n,
        "reference_steps": args.reference,
        "rows": rows,
    }


def _audit_counts(
    args: argparse.Namespace, size: int, channels: int, outputs: dict[int, torch.Tensor]
) -> dict[int, dict[str, float]]:
    """FID, precision, recall and coverage of each step count's images against the real
    images of class folder ``args.real`` (one ``domain`` extractor for all counts)."""
    from medaug.auditing import AuditSettings, audit_sets, prepare_extractor
    from medaug.data import load_dataset

    ds = load_dataset(args.real.parent, image_size=size, channels=channels, progress=False)
    real = ds.to_tensor(ds.class_indices(args.real.name))
    extractor = prepare_extractor(real=real, seed=args.seed)
    out: dict[int, dict[str, float]] = {}
    for count, images in outputs.items():
        m = audit_sets(real, images, extractor=extractor, settings=AuditSettings()).metrics
        out[count] = {
            "fid": round(m.fid, 2),
            "precision": round(m.precision, 3),
            "recall": round(m.recall, 3),
            "coverage": round(m.coverage, 3),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["throughput", "steps"])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--json", type=Path, help="also write the result here")
    group = parser.add_argument_group("throughput")
    group.add_argument("--image-size", type=int, default=64)
    group.add_argument("--batch-size", type=int, default=64)
    group.add_argument("--steps", type=int, default=3, help="timed training steps per round")
    group.add_argument("--sample-n", type=int, default=16, help="images timed per sample call")
    group.add_argument("--rounds", type=int, default=2)
    group.add_argument("--ddpm-variant", action="append", default=[], metavar="K=V[,K=V]")
    group.add_argument("--no-dcgan", action="store_true", help="time ddpm only")
    group = parser.add_argument_group("steps")
    group.add_argument("--checkpoint", type=Path, help="a ddpm checkpoint (.pt)")
    group.add_argument("--counts", default="5,10,15,25,50,100")
    group.add_argument("--reference", type=int, default=250)
    group.add_argument("--n", type=int, default=32, help="images per step count")
    group.add_argument("--seed", type=int, default=0)
    group.add_argument("--real", type=Path, help="ROOT/<class>: audit each step count")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if args.mode == "steps" and args.checkpoint is None:
        parser.error("steps needs --checkpoint")
    run = throughput if args.mode == "throughput" else steps
    started = time.perf_counter()
    result = {"machine": _machine(device), **run(args, device)}
    result["wall_s"] = round(time.perf_counter() - started, 1)
    if hasattr(os, "getloadavg"):
        result["machine"]["load_avg_1min_at_end"] = round(os.getloadavg()[0], 2)
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
