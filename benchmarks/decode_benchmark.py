"""Decode throughput of medaug's readers and decode cache; prints JSON.

Measures, on the real shared datasets:

- ``cold``: ``load_dataset`` with an empty cache (scan with header reads + decode),
- ``cold_decode``: decode only (the scan cached, decoded images not),
- ``warm``: ``load_dataset`` again (everything from the cache, memory-mapped),
- ``dicom``: cold decode of the RSNA DICOM sample (1024x1024 JPEG-baseline CR),
- ``dicom_scale``: the RSNA sample replicated to ``--dicom-copies`` files (in a temporary
  folder), decoded to ``--size`` px by medaug (its default route, which for these
  windowless 8-bit files is ``window="bits"`` read from the scanned pixel-data offset,
  ``window="bits"`` given explicitly, and ``decode="full"``, the pipeline of earlier
  versions) and by a plain ``pydicom`` ``pixel_array`` + Pillow resize loop, on one
  process and on ``--workers`` processes, all in the same run: medians, ratios and the
  load average around each measurement (other jobs on the machine slow every figure;
  the ratios cancel that),
- ``cache_scale``: a decode cache of ``--cache-images`` generated images at
  ``--cache-size`` px built, loaded warm and read through (one subprocess per size, so
  each peak RSS is its own), with the per-image slope of peak RSS,
- peak RSS of this process and of the decode workers.

Goals: folder cold >= 2,000 img/s on 2 cores at 64 px, warm >= 50,000 img/s (issue #3);
RSNA DICOM to 64 px >= 8x the 82 img/s of earlier versions (issue #13), and on the
default route >= 8x the plain pydicom loop of the same run, 2 cores (issue #20).

    python benchmarks/decode_benchmark.py [--data DIR] [--dicom DIR --labels CSV]
        [--size 64] [--workers N] [--repeats 3] [--dicom-copies 320]
        [--cache-images 100000] [--cache-size 128] [--skip folder,dicom,...]
        [--out result.json]
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from medaug.contracts.reader import ImageRecord, Reader, Scan
from medaug.data import DataOptions, load_dataset
from medaug.data.decode import decode_records, default_workers

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
    """``load_dataset`` keyword arguments shared by every timed run (``extra``: more
    :class:`DataOptions` fields)."""
    options = DataOptions(workers=workers, cache_dir=cache, **extra)
    return {"image_size": size, "progress": False, "options": options}


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


# -- DICOM at scale --------------------------------------------------------------------


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def replicate_rsna(images: Path, labels: Path, copies: int, into: Path) -> Path:
    """``copies`` files copied round-robin from the RSNA sample into class folders under
    ``into`` (``<class>/<stem>_<k>.dcm``); the sample itself is only read."""
    with open(labels, newline="", encoding="utf-8") as fh:
        label_of = {row["patientId"]: row["class"] for row in csv.DictReader(fh)}
    sources = sorted(p for p in images.glob("*.dcm") if p.stem in label_of)
    for k in range(copies):
        src = sources[k % len(sources)]
        folder = into / label_of[src.stem].replace("/", "_")
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, folder / f"{src.stem}_{k}.dcm")
    return into


def _plain_one(path: Path, size: int) -> tuple[int, int]:
    """The plain loop's body: pydicom ``pixel_array``, then a Pillow resize."""
    import pydicom
    from PIL import Image

    array = pydicom.dcmread(path).pixel_array
    small = Image.fromarray(array).resize((size, size), Image.Resampling.BILINEAR)
    return small.size


def _plain_chunk(paths: list[Path], size: int) -> int:
    return len([_plain_one(p, size) for p in paths])


def _plain_loop(paths: list[Path], size: int, processes: int) -> None:
    if processes == 1:
        _plain_chunk(paths, size)
        return
    chunks = [paths[i : i + 16] for i in range(0, len(paths), 16)]
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        pool.starmap(_plain_chunk, [(c, size) for c in chunks])


def _decode_all(reader: Reader, records: list[ImageRecord], size: int, workers: int) -> int:
    return len(decode_records(reader, records, size, workers=workers))


def _interleaved(
    runs: dict[str, tuple[int, Callable[[], Any]]], repeats: int
) -> tuple[dict[str, dict[str, Any]], list[dict[str, float]]]:
    """Time every entry of ``runs`` (name -> (images, function)) once per round, round
    after round, so that a change in the machine's load hits all of them alike; returns
    the stats per name and each round's rates."""
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    rounds: list[dict[str, float]] = []
    for _ in range(repeats):
        rates = {"load": os.getloadavg()[0]}
        for name, (n, fn) in runs.items():
            s, _out = _timed(fn)
            seconds[name].append(s)
            rates[name] = n / s
        rounds.append(rates)
    return {name: _stats(runs[name][0], secs) for name, secs in seconds.items()}, rounds


def _ratio(rounds: list[dict[str, float]], a: str, b: str) -> dict[str, Any]:
    """Median and range of ``a``'s rate over ``b``'s, each round on its own."""
    values = [r[a] / r[b] for r in rounds]
    return {
        "median": round(statistics.median(values), 2),
        "min": round(min(values), 2),
        "max": round(max(values), 2),
    }


def bench_dicom_scale(
    images: Path, labels: Path, size: int, workers: int | None, repeats: int, copies: int
) -> dict[str, Any]:
    from medaug_dicom.reader import DicomReader, PixelOptions

    from medaug.data import scan_dataset

    n_workers = workers or default_workers()
    root = Path(tempfile.mkdtemp(prefix="medaug-rsna-x"))
    try:
        replicate_rsna(images, labels, copies, root)
        paths = sorted(root.rglob("*.dcm"))
        out: dict[str, Any] = {"files": len(paths), "image_size": size, "workers": n_workers}
        cold: list[float] = []
        cold_decode: list[float] = []
        load_before = _load()
        for _ in range(repeats):
            with _fresh_cache() as cache:
                kw = _load_kwargs(size, workers, cache, reader="dicom")
                seconds, _ds = _timed(lambda kw=kw: load_dataset(root, **kw))
                cold.append(seconds)
                shutil.rmtree(cache / "decode-v1")
                seconds, _ds = _timed(lambda kw=kw: load_dataset(root, **kw))
                cold_decode.append(seconds)
        out["medaug_cold_load"] = {**_stats(len(paths), cold), "load_before": load_before}
        out["medaug_cold_decode"] = {**_stats(len(paths), cold_decode), "load_after": _load()}
        with _fresh_cache() as cache:
            records = scan_dataset(
                root, options=DataOptions(reader="dicom", cache_dir=cache)
            ).records
        variants = {
            "medaug": DicomReader(),
            "medaug_window_bits": DicomReader(pixels=PixelOptions(window="bits")),
            "old_pipeline": DicomReader(pixels=PixelOptions(decode="full")),
        }
        procs_list = sorted({1, n_workers})
        runs: dict[str, tuple[int, Callable[[], Any]]] = {}
        for procs in procs_list:
            for name, reader in variants.items():
                runs[f"{name}_{procs}p"] = (
                    len(records),
                    partial(_decode_all, reader, records, size, procs),
                )
            runs[f"plain_loop_{procs}p"] = (len(paths), partial(_plain_loop, paths, size, procs))
        load_before = _load()
        stats, rounds = _interleaved(runs, repeats)
        out.update(stats)
        out["rounds_load_1min"] = [round(r["load"], 2) for r in rounds]
        out["load_before"], out["load_after"] = load_before, _load()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    ratios: dict[str, Any] = {}
    for procs in procs_list:
        for name in ("medaug", "medaug_window_bits"):
            for base in ("plain_loop", "old_pipeline"):
                ratios[f"{name}_vs_{base}_{procs}p"] = _ratio(
                    rounds, f"{name}_{procs}p", f"{base}_{procs}p"
                )
    cold_rate = out["medaug_cold_decode"]["median_img_per_s"]
    ratios["cold_decode_vs_82_img_per_s"] = round(cold_rate / 82, 2)
    out["ratios"] = ratios
    out["goal"] = (
        ">= 8x the 82 img/s of earlier versions (656 img/s), 2 cores; default route "
        ">= 8x the plain pydicom loop of the same run (medaug_vs_plain_loop_2p), 2 cores"
    )
    return out


# -- the decode cache at scale ------------------------------------------------------------


class GeneratedImages(Reader):
    """``n`` generated gray images (no files): a ramp that differs per image."""

    def __init__(self, n: int) -> None:
        self.n = n

    def scan(self, root: Path) -> Scan:
        records = [
            ImageRecord(root / f"g{i:07d}", "ab"[i % 2], f"p{i // 4}", meta={"frames": 1})
            for i in range(self.n)
        ]
        return Scan(root=root, records=records, skipped=[])

    def decode(self, record: ImageRecord, *, image_size: int, channels: int | None) -> np.ndarray:
        i = int(record.path.name[1:])
        ramp = np.arange(image_size * image_size, dtype=np.uint32) * (i % 7 + 1) + i
        return (ramp % 256).astype(np.uint8).reshape(1, image_size, image_size)

    def cache_token(self) -> str:
        return f"GeneratedImages:{self.n}"


def _memory_status() -> dict[str, float]:
    """This process's resident memory, MiB: its peak (VmHWM) and now, anonymous (its
    own) and file-backed (mapped file pages, which the kernel can drop and re-read)."""
    out: dict[str, float] = {}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("RssAnon", "RssFile", "VmHWM"):
                out[key] = round(int(value.split()[0]) / 1024, 1)
    except OSError:
        pass
    return out


def cache_child(phase: str, n: int, size: int, workers: int | None, folder: Path) -> dict[str, Any]:
    """One phase of the cache benchmark, run in a fresh process: ``build`` (cold load,
    decode + write), ``warm`` (load from the cache) or ``read`` (warm load, then every
    row read once in batches of 256, as an epoch does)."""
    root, cache = folder / "root", folder / "cache"
    root.mkdir(parents=True, exist_ok=True)
    start_rss = _memory_status().get("VmHWM", 0.0)
    options = DataOptions(reader=GeneratedImages(n), cache_dir=cache, workers=workers)
    seconds, ds = _timed(
        lambda: load_dataset(root, image_size=size, progress=False, options=options)
    )
    result: dict[str, Any] = {"phase": phase, "images": len(ds), "load_s": round(seconds, 2)}
    result["load_img_per_s"] = round(len(ds) / seconds, 1)
    result["memory_mapped"] = isinstance(ds.images, np.memmap)
    if phase == "read":
        batches = range(0, len(ds), 256)
        read_s, means = _timed(lambda: [float(ds.images[i : i + 256].mean()) for i in batches])
        result["read_s"] = round(read_s, 2)
        result["read_img_per_s"] = round(len(ds) / read_s, 1)
        result["mean_pixel"] = round(float(np.mean(means)), 3)
    # VmHWM, not ru_maxrss: a process started by fork + exec inherits its parent's maxrss
    result["rss_after_imports_mib"] = round(start_rss, 1)
    result["peak_rss_mib"] = _memory_status().get("VmHWM", 0.0)
    result["rss_now_mib"] = _memory_status()
    return result


def _run_child(phase: str, n: int, size: int, workers: int | None, folder: Path) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--cache-child", phase, "--cache-images", str(n)]
    cmd += ["--cache-size", str(size), "--cache-folder", str(folder)]
    if workers:
        cmd += ["--workers", str(workers)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return dict(json.loads(done.stdout))


def bench_cache_scale(n: int, size: int, workers: int | None) -> dict[str, Any]:
    """Build, warm-load and read caches of n/4, n/2 and n images; the peak-RSS slope per
    image of each phase (the images themselves are ``size * size`` bytes each)."""
    sizes = sorted({max(1000, n // 4), max(1000, n // 2), n})
    runs: dict[str, list[dict[str, Any]]] = {"build": [], "warm": [], "read": []}
    load_before = _load()
    for count in sizes:
        folder = Path(tempfile.mkdtemp(prefix="medaug-cache-x"))
        try:
            for phase in runs:
                runs[phase].append(_run_child(phase, count, size, workers, folder))
            files = list((folder / "cache").rglob("images-*.npy"))
            runs["build"][-1]["cache_file_mib"] = round(
                sum(f.stat().st_size for f in files) / 2**20, 1
            )
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    slopes = {}
    for phase, rows in runs.items():
        if len(rows) > 1:
            d_rss = (rows[-1]["peak_rss_mib"] - rows[0]["peak_rss_mib"]) * 2**20
            d_n = rows[-1]["images"] - rows[0]["images"]
            slopes[phase] = round(d_rss / d_n, 1)
    return {
        "image_size": size,
        "bytes_per_image": size * size,
        "counts": sizes,
        "runs": runs,
        "peak_rss_slope_bytes_per_image": slopes,
        "load_before": load_before,
        "load_after": _load(),
    }


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
    parser.add_argument("--dicom-copies", type=int, default=320)
    parser.add_argument("--cache-images", type=int, default=100_000)
    parser.add_argument("--cache-size", type=int, default=128)
    parser.add_argument(
        "--skip", default="", help="comma-separated: folder, dicom, dicom_scale, cache_scale"
    )
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--cache-child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--cache-folder", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.cache_child:
        assert args.cache_folder is not None
        child = cache_child(
            args.cache_child, args.cache_images, args.cache_size, args.workers, args.cache_folder
        )
        sys.stdout.write(json.dumps(child) + "\n")
        return 0
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}

    baseline_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result: dict[str, Any] = {
        "cpus": default_workers(),
        "workers": args.workers or default_workers(),
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
    }
    if args.data.is_dir() and "folder" not in skip:
        result["folder"] = bench_folder(args.data, args.size, args.workers, args.repeats)
        result["folder"]["one_core_decode"] = bench_one_core(args.data, args.size)
    if args.dicom.is_dir() and "dicom" not in skip:
        result["dicom"] = bench_dicom(
            args.dicom, args.labels, args.size, args.workers, args.repeats
        )
    if args.dicom.is_dir() and "dicom_scale" not in skip:
        result["dicom_scale"] = bench_dicom_scale(
            args.dicom, args.labels, args.size, args.workers, args.repeats, args.dicom_copies
        )
    if "cache_scale" not in skip:
        result["cache_scale"] = bench_cache_scale(args.cache_images, args.cache_size, args.workers)
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
