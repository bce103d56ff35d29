"""Two medaug jobs on the same cores: the cost of oversized, spinning thread pools;
prints JSON.

Runs ``medaug train`` on the bundled sample (392 images, 64 px, simple-cnn) as a
demo-sized job, alone and two at a time. Scenario names read ``<jobs>_<wait>_<threads>``:

- wait ``spin``: OpenMP's own default (``GOMP_SPINCOUNT=300000``: idle threads spin
  before they sleep), what medaug did before 0.2; ``passive``: medaug's default now
  (``OMP_WAIT_POLICY=PASSIVE``);
- threads ``t2``: ``--threads 2`` (every core: what PyTorch picks by itself on a 2-core
  machine, and medaug's automatic choice there); ``t1``: ``--threads 1`` (the cores
  shared out by hand); ``pinned``: each job pinned to its own core with ``taskset`` and
  ``--threads 0`` (medaug reads the affinity mask and picks 1 thread).

Each figure is the training time that ``metrics.json`` records (``seconds``: no start-up
or decode), the median over ``--repeats``. The decode cache is warmed first. Compare the
ratios of one run only: on a shared machine the absolute times move with the load.

    python benchmarks/threads_benchmark.py [--epochs 3] [--repeats 2] [--out result.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

SAMPLE = Path(__file__).resolve().parents[1] / "medaug" / "sample_data" / "chestxray2017-sample"


WAIT = {"spin": {"GOMP_SPINCOUNT": "300000"}, "passive": {"OMP_WAIT_POLICY": "PASSIVE"}}


def _command(out: Path, epochs: int, threads: int, core: int | None) -> list[str]:
    cmd = [sys.executable, "-m", "medaug", "train", str(SAMPLE), "--classifier", "simple-cnn"]
    cmd += ["--epochs", str(epochs), "--image-size", "64", "--augment", "none"]
    cmd += ["--threads", str(threads), "--out", str(out), "--json"]
    if core is not None:
        cmd = ["taskset", "-c", str(core), *cmd]
    return cmd


def _run_jobs(
    work: Path, epochs: int, wait: str, threads: int, cores: list[int | None]
) -> list[float]:
    """Start one job per entry of ``cores`` at once; their training seconds."""
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    env.update(WAIT[wait])
    procs = []
    for i, core in enumerate(cores):
        out = work / f"job{i}"
        shutil.rmtree(out, ignore_errors=True)
        procs.append(
            (
                out,
                subprocess.Popen(
                    _command(out, epochs, threads, core),
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    text=True,
                    env=env,
                ),
            )
        )
    seconds = []
    for out, proc in procs:
        _, err = proc.communicate()
        if proc.returncode != 0:
            raise SystemExit(f"a job failed: {err.strip()}")
        seconds.append(float(json.loads((out / "metrics.json").read_text())["seconds"]))
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2 or shutil.which("taskset") is None:
        raise SystemExit("needs two usable cores and taskset")
    pair = cores[:2]
    load_before = os.getloadavg()
    both: list[int | None] = [None, None]
    scenarios: dict[str, tuple[str, int, list[int | None]]] = {
        "alone_spin_t2": ("spin", 2, [None]),
        "alone_spin_t1": ("spin", 1, [None]),
        "two_spin_t2": ("spin", 2, both),
        "two_spin_t1": ("spin", 1, both),
        "two_spin_pinned": ("spin", 0, [pair[0], pair[1]]),
        "alone_passive_t2": ("passive", 2, [None]),
        "two_passive_t2": ("passive", 2, both),
        "two_passive_t1": ("passive", 1, both),
    }
    samples: dict[str, list[float]] = {name: [] for name in scenarios}
    with tempfile.TemporaryDirectory(prefix="medaug-threads-") as tmp:
        work = Path(tmp)
        os.environ["MEDAUG_CACHE_DIR"] = str(work / "cache")
        _run_jobs(work, 1, "passive", 0, [None])  # warm the decode cache
        for _ in range(args.repeats):  # interleaved, so that load drifts hit all alike
            for name, (wait, threads, job_cores) in scenarios.items():
                samples[name].extend(_run_jobs(work, args.epochs, wait, threads, job_cores))
    median = {name: statistics.median(v) for name, v in samples.items()}
    base = median["alone_spin_t2"]
    result: dict[str, Any] = {
        "epochs": args.epochs,
        "repeats": args.repeats,
        "cores": len(cores),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "seconds": {k: round(v, 2) for k, v in median.items()},
        "slowdown_vs_alone": {k: round(v / base, 2) for k, v in median.items()},
        "samples": samples,
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
