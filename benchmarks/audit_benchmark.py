"""Speed and figures of ``medaug audit``; prints JSON.

Audits the synthetic images of one class against its real images at 64 px (issue #8:
1,349 real vs 1,349 synthetic ChestXray2017 NORMAL images on 2 CPU cores):

- ``uncached``: empty medaug cache: decode both folders, train the domain extractor,
  features, every figure with its uncertainty, the real-vs-real floor, the copy screen;
- ``cached``: the same audit again (decoded images and trained extractor from the cache);
- ``noise``: the same real images against as many images of uniform noise (what a
  hopeless generator scores), with the cached extractor;
- peak RSS of the process.

Wall seconds depend on what else runs on the machine; ``*_cpu_s`` is the CPU time of
this process (decode workers excluded), which is what the run costs on idle cores.

Goals: uncached under 120 s including the extractor's training, cached under 20 s.

    python benchmarks/audit_benchmark.py --synthetic-from BALANCE_OUT [--class NORMAL]
    python benchmarks/audit_benchmark.py --real DIR --synthetic DIR [--size 64]
        [--threads 2] [--out result.json]

``--synthetic-from`` takes the synthetic rows of a ``medaug balance`` output (its
manifest) and links them into a temporary one-class folder.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from medaug.auditing import AuditConfig, AuditReport, AuditSettings, audit, audit_sets
from medaug.auditing.extractors import prepare_extractor
from medaug.auditing.sources import load_folder
from medaug.data.options import DataOptions
from medaug.output.layout import OutputLayout
from medaug.output.manifest import read_manifest

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"
DEFAULT_REAL = SHARED / "chestxray2017" / "train" / "NORMAL"
FIGURES = ("fid", "kid", "precision", "recall", "density", "coverage", "c2st_auc")


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def link_synthetic(out: Path, name: str, target: Path) -> Path:
    """Symlink the synthetic files of class ``name`` of a balance output into ``target``."""
    layout = OutputLayout.find(out)
    if layout is None:
        raise SystemExit(f"{out} is not a medaug balance output")
    target.mkdir(parents=True, exist_ok=True)
    n = 0
    for row in read_manifest(layout.manifest):
        if row.label == name and row.source == "synthetic":
            src = (layout.root / row.path).resolve()
            os.symlink(src, target / src.name)
            n += 1
    if not n:
        raise SystemExit(f"{out} has no synthetic images of {name}")
    return target


def _figures(report: AuditReport) -> dict[str, Any]:
    name, result = next(iter(report.classes.items()))
    data = result.to_json()
    pick = lambda d: {k: d[k] for k in FIGURES} | {f"{k}_std": d[f"{k}_std"] for k in FIGURES}  # noqa: E731
    return {
        "class": name,
        "n_real": result.n_real,
        "n_synthetic": result.n_synthetic,
        "synthetic_vs_real": pick(data),
        "real_vs_real": pick(data["baseline"]),
        "memorization": {
            "threshold": data["memorization"]["threshold"],
            "n_flagged": data["memorization"]["n_flagged"],
            "real_nearest": data["memorization"]["real_nearest"],
            "synthetic_nearest": data["memorization"]["synthetic_nearest"],
        },
        "verdict": data["verdict"]["summary"],
    }


def _timed_audit(
    real: Path, synthetic: Path, size: int, cache: Path
) -> tuple[float, float, AuditReport]:
    """Wall seconds, CPU seconds of this process (all its threads), the report."""
    start, cpu = time.perf_counter(), time.process_time()
    config = AuditConfig(image_size=size, options=DataOptions(cache_dir=cache), device="cpu")
    report = audit(real, synthetic, config=config)
    return time.perf_counter() - start, time.process_time() - cpu, report


def _seconds(report: AuditReport) -> dict[str, float]:
    per_class = next(iter(report.classes.values())).seconds
    out = {k: round(v, 2) for k, v in report.seconds.items()}
    out.update({k: round(v, 2) for k, v in per_class.items() if k != "extractor"})
    return out


def bench(real: Path, synthetic: Path, size: int) -> dict[str, Any]:
    cache = Path(tempfile.mkdtemp(prefix="medaug-audit-bench-"))
    try:
        cold_s, cold_cpu, cold = _timed_audit(real, synthetic, size, cache)
        warm_s, warm_cpu, warm = _timed_audit(real, synthetic, size, cache)
        assert warm.prepared is not None and warm.prepared.cached
        assert warm.extractor_sha256 == cold.extractor_sha256
        # a hopeless generator: uniform noise, same count, same (cached) extractor
        real_set, _ = load_folder(real, image_size=size, options=DataOptions(cache_dir=cache))
        extractor = prepare_extractor(real=real_set.images, cache_dir=cache)
        g = torch.Generator().manual_seed(0)
        noise = torch.rand(real_set.images.shape, generator=g) * 2 - 1
        start = time.perf_counter()
        noise_result = audit_sets(
            real_set, noise, extractor=extractor, settings=AuditSettings(), name="noise"
        )
        noise_s = time.perf_counter() - start
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    noise_report = AuditReport(
        extractor=cold.extractor,
        extractor_sha256=cold.extractor_sha256,
        extractor_info=cold.extractor_info,
        settings=cold.settings,
        classes={"noise": noise_result},
        image_size=size,
        channels=cold.channels,
    )
    return {
        "image_size": size,
        "threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "extractor": cold.extractor,
        "extractor_sha256": cold.extractor_sha256,
        "uncached_s": round(cold_s, 2),
        "uncached_cpu_s": round(cold_cpu, 2),
        "uncached_breakdown_s": _seconds(cold),
        "cached_s": round(warm_s, 2),
        "cached_cpu_s": round(warm_cpu, 2),
        "cached_breakdown_s": _seconds(warm),
        "noise_audit_s": round(noise_s, 2),
        "peak_rss_mb": _peak_rss_mb(),
        "goals": {"uncached_s": 120, "cached_s": 20},
        "synthetic": _figures(cold),
        "noise": _figures(noise_report),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", type=Path, default=DEFAULT_REAL)
    parser.add_argument("--synthetic", type=Path, help="one-class folder of synthetic images")
    parser.add_argument("--synthetic-from", type=Path, help="a medaug balance output")
    parser.add_argument("--class", dest="cls", default="NORMAL", help="class of --synthetic-from")
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    links = None
    if args.synthetic_from is not None:
        links = Path(tempfile.mkdtemp(prefix="medaug-audit-synthetic-"))
        synthetic = link_synthetic(args.synthetic_from, args.cls, links / args.cls)
    elif args.synthetic is not None:
        synthetic = args.synthetic
    else:
        parser.error("give --synthetic DIR or --synthetic-from BALANCE_OUT")
    try:
        result = bench(args.real, synthetic, args.size)
    finally:
        if links is not None:
            shutil.rmtree(links, ignore_errors=True)
    text = json.dumps(result, indent=2)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    sys.stdout.write(text + "\n")


if __name__ == "__main__":
    main()
