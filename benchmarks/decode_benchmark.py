"""Decode throughput of medaug's readers and decode cache; prints JSON.

Measures, on the real shared datasets:

- ``cold``: ``load_dataset`` with an empty cache (scan with header reads + decode),
- ``cold_decode``: decode only (the scan cached, decoded images not),
- ``warm``: ``load_dataset`` again (everything from the cache, memory-mapped),
- ``dicom``: cold decode of the RSNA DICOM sample (1024x1024 JPEG-baseline CR),
- peak RSS of this process and of the decode workers.

Goals (issue #3): cold >= 2,000 img/s on 2 cores at 64 px, warm >= 50,000 img/s.

    python benchmarks/decode_benchmark.py [--data DIR] [--dicom DIR --labels CSV]
        [--size 64] [--workers N] [--repeats 3] [--out result.json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from medaug.data import load_dataset
from medaug.data.decode import default_workers

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"


def _timed(fn: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


@contextmanager
def _fresh_cache() -> Iterator[Path]:
    """An empty decode-cache folder, removed afterwards (every cold run starts from it)."""
    cache = Path(tempfile.mkdtemp(prefix="medaug-bench-"))
    try:
        yield cache
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def _load_kwargs(size: int, workers: int | None, cache: Path, **extra: Any) -> dict[str, Any]:
    """``load_dataset`` keyword arguments shared by every timed run."""
    return {"image_size": size, "workers": workers, "progress": False, "cache_dir": cache, **extra}


def _stats(n: int, seconds: list[float]) -> dict[str, Any]:
    rates = [n / s for s in seconds]
    return {
        "median_img_per_s": round(statistics.median(rates), 1),
        "runs_img_per_s": [round(r, 1) for r in rates],
        "median_s": round(statistics.median(seconds), 4),
    }


def bench_folder(data: Path, size: int, workers: int | None, repeats: int) -> dict[str, Any]:
    cold: list[float] = []
    cold_decode: list[float] = []
    warm: list[float] = []
    n = 0
    for _ in range(repeats):
        with _fresh_cache() as cache:
            kw = _load_kwargs(size, workers, cache)
            seconds, ds = _timed(lambda kw=kw: load_dataset(data, **kw))
            cold.append(seconds)
            n = len(ds)
            for _ in range(3):
                seconds, _ds = _timed(lambda kw=kw: load_dataset(data, **kw))
                warm.append(seconds)
            shutil.rmtree(cache / "decode-v1")
            seconds, _ds = _timed(lambda kw=kw: load_dataset(data, **kw))
            cold_decode.append(seconds)
    return {
        "path": str(data),
        "images": n,
        "image_size": size,
        "cold": _stats(n, cold),
        "cold_decode": _stats(n, cold_decode),
        "warm": _stats(n, warm),
        "goal_cold_img_per_s": 2000,
        "goal_warm_img_per_s": 50000,
    }


def bench_one_core(data: Path, size: int, count: int = 600) -> dict[str, Any]:
    """Decode ``count`` images in this process only: the per-core rate, free of pool costs."""
    from medaug.data import scan_dataset
    from medaug.data.decode import decode_one
    from medaug.data.select import resolve_reader

    scan = scan_dataset(data)
    _, reader = resolve_reader(scan.root, scan.reader)
    records = scan.records[:: max(1, len(scan.records) // count)][:count]
    seconds, _ = _timed(lambda: [decode_one(reader, r, size) for r in records])
    return {"images": len(records), "img_per_s": round(len(records) / seconds, 1)}


def bench_dicom(
    images: Path, labels: Path, size: int, workers: int | None, repeats: int
) -> dict[str, Any]:
    runs: list[float] = []
    n = 0
    for _ in range(repeats):
        with _fresh_cache() as cache:
            kw = _load_kwargs(size, workers, cache, labels=labels)
            seconds, ds = _timed(lambda kw=kw: load_dataset(images, **kw))
            runs.append(seconds)
            n = len(ds)
    return {"path": str(images), "images": n, "image_size": size, "cold": _stats(n, runs)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=SHARED / "chestxray2017" / "train")
    parser.add_argument(
        "--dicom", type=Path, default=SHARED / "rsna-pneumonia-dicom-sample" / "images"
    )
    parser.add_argument(
        "--labels", type=Path, default=SHARED / "rsna-pneumonia-dicom-sample" / "labels.csv"
    )
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)

    baseline_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result: dict[str, Any] = {
        "cpus": default_workers(),
        "workers": args.workers or default_workers(),
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
    }
    if args.data.is_dir():
        result["folder"] = bench_folder(args.data, args.size, args.workers, args.repeats)
        result["folder"]["one_core_decode"] = bench_one_core(args.data, args.size)
    if args.dicom.is_dir():
        result["dicom"] = bench_dicom(
            args.dicom, args.labels, args.size, args.workers, args.repeats
        )
    result["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    result["rss_after_imports_mib"] = round(baseline_rss, 1)  # torch alone is ~500 MiB
    result["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    result["peak_rss_workers_mib"] = round(
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1
    )
    text = json.dumps(result, indent=2)
    if args.out:
        args.out.write_text(text + "\n")
    sys.stdout.write(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
