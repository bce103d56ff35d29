"""bf16 on the CPU: is ``precision=auto`` (bf16 on CPUs with AMX) faster, and as good?

Three sections, each measuring fp32 against bf16 (``torch.autocast("cpu", bfloat16)``
through :mod:`medaug.precision`) in the same process:

- ``speed``: ms per training step on ``--speed-threads`` threads (default one), fp32 and
  bf16 interleaved round by round (medians over ``--rounds``; wall clock and process CPU
  time both recorded): the plain pytorch/examples DCGAN loop (``PlainLoop`` of
  ``benchmarks/dcgan_throughput.py``, imported), medaug's ``dcgan`` with ``preset=paper``
  and ``preset=compact``, and a classifier step (forward, backward, AdamW) of
  ``simple-cnn`` and ``timm:resnet18``; 64 px, batch 64, one channel. Records the CPU
  model, ``torch.backends.cpu.get_cpu_capability()`` and ``cpu_has_amx()``.
- ``gan``: image quality. ``dcgan`` (``--gan-preset``, default ``compact``) trained on the
  ``--gan-class`` images of ``--train`` for ``--gen-steps`` steps with each precision and
  each of ``--seeds`` seeds; ``--samples`` images of each audited against all the class's
  real images with :func:`medaug.auditing.audit_sets` (one ``domain`` extractor, trained
  once on the real images, for every run): FID, KID, precision, recall, density,
  coverage, C2ST AUC. A seed's fp32 and bf16 runs share the initial weights, batch order
  and noise, so they are also compared pair by pair.
- ``classifier``: ``--classifier`` trained (``medaug.training.fit_and_evaluate``, the step
  under ``medaug experiment``: patient-grouped 20% validation split per seed, ``standard``
  augmentation, ``TrainConfig`` defaults, ``--epochs``) on ``--train`` with each precision
  and seed, evaluated on ``--test``.

Quality verdicts: per metric the mean and sd over seeds of each precision; "within seed
spread" when ``|mean_bf16 - mean_fp32| <= 2 * max(sd_fp32, sd_bf16)``; plus the paired
(by seed) difference with its 95% Student t interval
(:func:`medaug.experiments.stats.paired_difference`).

    # 1. speed (one thread; about 4 min), and with two threads
    python benchmarks/cpu_precision.py --section speed --json /tmp/cpu-precision-speed.json
    python benchmarks/cpu_precision.py --section speed --speed-threads 2
    # 2. image quality (3 seeds x 2 precisions x 1,512 steps, 1,000 samples each; 44 min
    #    on one thread; --threads 1 because other jobs shared the 2 cores: docs/scaling.md)
    python benchmarks/cpu_precision.py --section gan --threads 1 \\
        --train ../shared/datasets/chestxray2017/train --out /tmp/cpu-precision
    # 3. classifier on a patient-grouped development split of the train folder (12 min)
    python benchmarks/dev_split.py ../shared/datasets/chestxray2017/train --out /tmp/dev
    python benchmarks/cpu_precision.py --section classifier --threads 1 \\
        --train /tmp/dev/train --test /tmp/dev/test --out /tmp/cpu-precision
    # smoke run (bundled sample, 32 px, tiny sizes; seconds)
    python benchmarks/cpu_precision.py --quick

``--out`` keeps each finished run's figures (``gan/<precision>-seed<S>.json``,
``classifier/<precision>-seed<S>/``) and sample grids; a rerun with the same settings
reuses them. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from medaug.runtime import prefer_passive_openmp_wait

prefer_passive_openmp_wait()  # as medaug's commands do: idle OpenMP threads sleep, not spin
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import dcgan_throughput  # the plain pytorch/examples loop, reused as is  # noqa: E402

PRECISIONS = ("fp32", "bf16")
GAN_METRICS = ("fid", "kid", "precision", "recall", "density", "coverage", "c2st_auc")
CLASSIFIER_METRICS = (
    "accuracy",
    "balanced_accuracy",
    "precision",
    "recall",
    "specificity",
    "roc_auc",
)
SAMPLE_DATA = Path(__file__).resolve().parents[1] / "medaug/sample_data/chestxray2017-sample"


# -- the machine --------------------------------------------------------------------------


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``), else what :mod:`platform` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, Any]:
    from medaug.precision import cpu_has_amx, resolve_precision

    flags: set[str] = set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    except OSError:
        pass
    return {
        "cpu": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "cpu_has_amx": cpu_has_amx(),
        "cpu_flags": sorted(f for f in flags if f.startswith(("amx", "avx512_bf16", "avx512f"))),
        "auto_resolves_to": str(resolve_precision("auto", "cpu")).replace("torch.", ""),
        "torch": torch.__version__,
        "mkldnn_bf16": bool(torch.ops.mkldnn._is_mkldnn_bf16_supported()),
        "python": platform.python_version(),
    }


def dtype_of(precision: str) -> torch.dtype:
    from medaug.precision import resolve_precision

    return resolve_precision(precision, "cpu")


# -- speed --------------------------------------------------------------------------------


def _plain(precision: str, data: torch.Tensor, bs: int) -> Callable[[int], None]:
    loop = dcgan_throughput.PlainLoop(torch.device("cpu"), dtype=dtype_of(precision))

    def run(steps: int) -> None:
        loop.run(data, bs, steps)

    return run


def _medaug_dcgan(
    preset: str, precision: str, data: torch.Tensor, bs: int, size: int
) -> Callable[[int], None]:
    import medaug

    gen = medaug.create_generator(
        "dcgan", image_size=size, channels=1, device="cpu", preset=preset, precision=precision
    )
    assert gen.options()["precision"] == precision

    def run(steps: int) -> None:
        dcgan_throughput.medaug_run(gen, data, bs, steps)

    return run


def _classifier(name: str, precision: str, bs: int, size: int) -> Callable[[int], None]:
    """Steps of forward (under autocast), loss, backward and AdamW, as medaug's trainer
    takes them (``medaug/training/trainer.py``), on one fixed random batch."""
    import medaug
    from medaug.precision import autocast

    dtype = dtype_of(precision)
    model = medaug.create_classifier(name, num_classes=2, in_chans=1, image_size=size)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    criterion = torch.nn.CrossEntropyLoss(label_smoothing=0.05)
    g = torch.Generator().manual_seed(0)
    x = torch.rand(bs, 1, size, size, generator=g) * 2 - 1
    y = torch.randint(0, 2, (bs,), generator=g)

    def run(steps: int) -> None:
        for _ in range(steps):
            with autocast("cpu", dtype):
                loss = criterion(model(x).float(), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        loss.item()

    return run


def section_speed(args: argparse.Namespace) -> dict[str, Any]:
    torch.set_num_threads(args.speed_threads)
    bs, size, steps = args.batch_size, args.speed_image_size, args.speed_steps
    data = torch.rand(bs * max(steps, args.warmup), 1, size, size) * 2 - 1
    makers: dict[str, Callable[[str], Callable[[int], None]]] = {
        "plain dcgan (pytorch/examples)": lambda p: _plain(p, data, bs),
        "medaug dcgan paper": lambda p: _medaug_dcgan("paper", p, data, bs, size),
        "medaug dcgan compact": lambda p: _medaug_dcgan("compact", p, data, bs, size),
    }
    for name in args.speed_classifiers.split(","):
        if name:
            makers[f"classifier {name}"] = lambda p, n=name: _classifier(n, p, bs, size)
    wanted = [v for v in args.speed_variants.split(",") if v] if args.speed_variants else None
    if wanted:
        makers = {k: v for k, v in makers.items() if any(w in k for w in wanted)}
    started = time.perf_counter()
    runs: dict[tuple[str, str], Callable[[int], None]] = {}
    for name, make in makers.items():
        for precision in PRECISIONS:
            torch.manual_seed(0)
            run = make(precision)
            run(args.warmup)  # first steps build the oneDNN primitives
            runs[name, precision] = run
    wall: dict[tuple[str, str], list[float]] = {k: [] for k in runs}
    cpu: dict[tuple[str, str], list[float]] = {k: [] for k in runs}
    load_start = [round(x, 2) for x in os.getloadavg()]
    for _ in range(args.rounds):  # interleaved: fp32, bf16, next variant..., next round
        for key, run in runs.items():
            w0, c0 = time.perf_counter(), time.process_time()
            run(steps)
            cpu[key].append(1000 * (time.process_time() - c0) / steps)
            wall[key].append(1000 * (time.perf_counter() - w0) / steps)
    table: dict[str, Any] = {}
    for name in makers:
        row: dict[str, Any] = {}
        for clock, times in (("wall", wall), ("cpu", cpu)):
            f32 = statistics.median(times[name, "fp32"])
            b16 = statistics.median(times[name, "bf16"])
            row[clock] = {
                "fp32_ms": round(f32, 1),
                "bf16_ms": round(b16, 1),
                "bf16_time_ratio": round(b16 / f32, 3),
                "speedup": round(f32 / b16, 2),
                "fp32_rounds_ms": [round(t, 1) for t in times[name, "fp32"]],
                "bf16_rounds_ms": [round(t, 1) for t in times[name, "bf16"]],
            }
        table[name] = row
    return {
        "threads": torch.get_num_threads(),
        "batch_size": bs,
        "image_size": size,
        "channels": 1,
        "steps_per_round": steps,
        "warmup_steps": args.warmup,
        "rounds": args.rounds,
        "statistic": "median over rounds of ms per step",
        "load_avg_start": load_start,
        "load_avg_end": [round(x, 2) for x in os.getloadavg()],
        "minutes": round((time.perf_counter() - started) / 60, 2),
        "ms_per_step": table,
    }


# -- quality helpers ----------------------------------------------------------------------


def compare_precisions(
    per_seed: dict[str, dict[int, dict[str, Any]]], metrics: tuple[str, ...]
) -> dict[str, Any]:
    """Per metric: mean/sd/values per precision, ``bf16 - fp32``, the spread rule and the
    seed-paired difference with its 95% t interval."""
    from medaug.experiments.stats import describe, paired_difference

    out: dict[str, Any] = {}
    for m in metrics:
        values = {p: {s: per_seed[p][s].get(m) for s in sorted(per_seed[p])} for p in PRECISIONS}
        desc = {p: describe([v for v in values[p].values() if v is not None]) for p in PRECISIONS}
        row: dict[str, Any] = {p: _round_desc(desc[p]) for p in PRECISIONS}
        if desc["fp32"]["n"] and desc["bf16"]["n"]:
            diff = desc["bf16"]["mean"] - desc["fp32"]["mean"]
            spread = 2 * max(desc["fp32"]["std"], desc["bf16"]["std"])
            paired = paired_difference(values["bf16"], values["fp32"])
            row.update(
                diff_bf16_minus_fp32=_r(diff),
                spread_2x_max_sd=_r(spread),
                within_seed_spread=bool(abs(diff) <= spread) if spread > 0 else None,
                paired={
                    k: _r(paired[k]) if isinstance(paired[k], float) else paired[k]
                    for k in ("n", "mean", "std", "ci_low", "ci_high", "p_value")
                },
                paired_ci_contains_zero=(
                    bool(paired["ci_low"] <= 0 <= paired["ci_high"])
                    if paired["ci_low"] is not None
                    else None
                ),
            )
        out[m] = row
    return out


def _r(x: float | None, digits: int = 4) -> float | None:
    return None if x is None else round(float(x), digits)


def _round_desc(d: dict[str, Any]) -> dict[str, Any]:
    return {
        "mean": _r(d["mean"]),
        "sd": _r(d["std"]),
        "n": d["n"],
        "values": [_r(v) for v in d["values"]],
    }


def _cached(path: Path | None, key: dict[str, Any]) -> dict[str, Any] | None:
    if path is None or not path.is_file():
        return None
    saved = json.loads(path.read_text())
    return saved["row"] if saved.get("key") == json.loads(json.dumps(key)) else None


def _store(path: Path | None, key: dict[str, Any], row: dict[str, Any]) -> None:
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"key": key, "row": row}, indent=2) + "\n")


# -- gan ----------------------------------------------------------------------------------


def section_gan(args: argparse.Namespace) -> dict[str, Any]:
    import medaug
    from medaug.auditing import AuditSettings, ImageSet, audit_sets, prepare_extractor

    size, bs = args.image_size, args.batch_size
    started = time.perf_counter()
    ds = medaug.load_dataset(
        args.train,
        image_size=size,
        channels=1,
        progress=False,
        options=medaug.DataOptions(cache_dir=args.cache_dir),
    )
    idx = ds.class_indices(args.gan_class)
    real = ds.to_tensor(idx)
    groups = [str(p) for p in ds.patients[idx]]
    print(f"gan: {len(real)} real images; preparing the extractor", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    extractor = prepare_extractor(real=real, seed=0, cache_dir=args.cache_dir)
    extractor_minutes = (time.perf_counter() - t0) / 60
    # --quick: the fewest subsets and folds the audit takes (the defaults otherwise)
    light = {"subsets": 2, "kid_subsets": 2, "folds": 2} if args.quick else {}
    settings = AuditSettings(seed=0, **light)
    steps_per_epoch = len(real) // min(bs, len(real))
    epochs = math.ceil(args.gen_steps / steps_per_epoch)
    per_seed: dict[str, dict[int, dict[str, Any]]] = {p: {} for p in PRECISIONS}
    baseline: dict[str, Any] | None = None
    for seed in args.seed_list:
        for precision in PRECISIONS:  # interleaved: both precisions see the same load
            key = {
                "train": str(args.train),
                "class": args.gan_class,
                "preset": args.gan_preset,
                "precision": precision,
                "seed": seed,
                "epochs": epochs,
                "batch_size": bs,
                "image_size": size,
                "samples": args.samples,
                "threads": torch.get_num_threads(),
            }
            path = args.out / "gan" / f"{precision}-seed{seed}.json" if args.out else None
            row = _cached(path, key)
            if row is None:
                print(f"gan: training {precision} seed {seed}", file=sys.stderr, flush=True)
                row = _gan_run(args, precision, seed, real, epochs)
                synthetic = row.pop("_synthetic")
                a0 = time.perf_counter()
                audit = audit_sets(
                    ImageSet(real, groups=groups),
                    synthetic,
                    extractor=extractor,
                    settings=settings,
                    name=f"{precision}-seed{seed}",
                )
                row["audit_minutes"] = round((time.perf_counter() - a0) / 60, 2)
                row.update(_audit_row(audit.metrics))
                row["flagged_copies"] = len(audit.memorization.flagged)
                row["real_halves"] = _audit_row(audit.baseline)
                _store(path, key, row)
            baseline = baseline or row.get("real_halves")
            per_seed[precision][seed] = row
            print(
                json.dumps({"gan": f"{precision} seed {seed}", **row}), file=sys.stderr, flush=True
            )
    comparison = compare_precisions(per_seed, GAN_METRICS)
    return {
        "train": str(args.train),
        "class": args.gan_class,
        "n_real": len(real),
        "generator": f"dcgan preset={args.gan_preset}",
        "image_size": size,
        "batch_size": bs,
        "steps": epochs * steps_per_epoch,
        "epochs": epochs,
        "samples": args.samples,
        "seeds": args.seed_list,
        "threads": torch.get_num_threads(),
        "extractor": extractor.label,
        "extractor_minutes": round(extractor_minutes, 2),
        "rule": "within seed spread: |mean_bf16 - mean_fp32| <= 2 x max(sd_fp32, sd_bf16)",
        "real_halves": baseline,
        "runs": {p: {str(s): r for s, r in per_seed[p].items()} for p in PRECISIONS},
        "comparison": comparison,
        "all_within_seed_spread": all(
            comparison[m].get("within_seed_spread") is not False for m in GAN_METRICS
        ),
        "minutes": round((time.perf_counter() - started) / 60, 2),
    }


def _gan_run(
    args: argparse.Namespace, precision: str, seed: int, real: torch.Tensor, epochs: int
) -> dict[str, Any]:
    import medaug

    gen = medaug.create_generator(
        "dcgan",
        image_size=args.image_size,
        channels=1,
        device="cpu",
        preset=args.gan_preset,
        precision=precision,
    )
    w0, c0 = time.perf_counter(), time.process_time()
    gen.fit(real, epochs=epochs, batch_size=args.batch_size, seed=seed)
    train_wall, train_cpu = time.perf_counter() - w0, time.process_time() - c0
    synthetic = gen.sample(args.samples, seed=10_000 + seed)
    if args.out:
        from torchvision.utils import save_image

        grid = args.out / "gan" / f"{precision}-seed{seed}.png"
        grid.parent.mkdir(parents=True, exist_ok=True)
        save_image((synthetic[:64] + 1) / 2, grid, nrow=8)
    steps = epochs * (len(real) // min(args.batch_size, len(real)))
    return {
        "steps": steps,
        "train_wall_minutes": round(train_wall / 60, 2),
        "train_cpu_minutes": round(train_cpu / 60, 2),
        "wall_ms_per_step": round(1000 * train_wall / steps, 1),
        "load_avg": round(os.getloadavg()[0], 2),
        "_synthetic": synthetic,
    }


def _audit_row(m: Any) -> dict[str, Any]:
    return {
        "fid": round(m.fid, 2),
        "kid": round(m.kid, 5),
        "precision": round(m.precision, 4),
        "recall": round(m.recall, 4),
        "density": round(m.density, 4),
        "coverage": round(m.coverage, 4),
        "c2st_auc": round(m.c2st_auc, 4),
    }


# -- classifier ---------------------------------------------------------------------------


def _classifier_data(args: argparse.Namespace) -> tuple[Any, Any]:
    """The training dataset and the test ``TensorData``: ``--train``/``--test``; in
    ``--quick`` without ``--test``, a patient-grouped 30% of ``--train`` is the test set."""
    import medaug
    from medaug.data import patient_split
    from medaug.training.data import align_classes, from_dataset

    ds = medaug.load_dataset(
        args.train,
        image_size=args.image_size,
        channels=1,
        progress=False,
        options=medaug.DataOptions(cache_dir=args.cache_dir),
    )
    if args.test is None:
        train_idx, test_idx = patient_split(ds, val_fraction=0.3, seed=123)
        return _Subset(ds, train_idx), from_dataset(ds, test_idx)
    test_ds = medaug.load_dataset(
        args.test,
        image_size=args.image_size,
        channels=1,
        progress=False,
        options=medaug.DataOptions(cache_dir=args.cache_dir),
    )
    return ds, align_classes(from_dataset(test_ds), ds.classes)


class _Subset:
    """The rows ``idx`` of a dataset, with what ``patient_split``/``from_dataset`` read."""

    def __init__(self, ds: Any, idx: Any) -> None:
        import numpy as np

        self.ds, self.idx = ds, np.asarray(idx)
        self.classes = ds.classes
        self.targets = np.asarray(ds.targets)[self.idx]
        self.patients = np.asarray(ds.patients)[self.idx]
        self.records = [ds.records[i] for i in self.idx]
        self.channels = ds.channels

    def __len__(self) -> int:
        return len(self.idx)

    def to_tensor(self, idx: Any = None, **kwargs: Any) -> torch.Tensor:
        rows = self.idx if idx is None else self.idx[idx]
        return self.ds.to_tensor(rows, **kwargs)


def section_classifier(args: argparse.Namespace) -> dict[str, Any]:
    from dataclasses import replace

    from medaug.data import patient_split
    from medaug.training import Placement, Recipe, RunData, TrainConfig, fit_and_evaluate
    from medaug.training.augment import load_pipeline
    from medaug.training.data import from_dataset
    from medaug.training.metrics import resolve_positive_class
    from medaug.training.spec import ModelSpec

    started = time.perf_counter()
    ds, test = _classifier_data(args)
    classes = list(ds.classes)
    positive = resolve_positive_class(classes, None)
    pipeline = load_pipeline("standard")
    spec = ModelSpec(args.classifier)
    base = TrainConfig(epochs=args.epochs)
    per_seed: dict[str, dict[int, dict[str, Any]]] = {p: {} for p in PRECISIONS}
    with tempfile.TemporaryDirectory() as tmp:
        root = args.out / "classifier" if args.out else Path(tmp)
        for seed in args.seed_list:
            train_idx, val_idx = patient_split(ds, val_fraction=0.2, seed=seed)
            train, val = from_dataset(ds, train_idx), from_dataset(ds, val_idx)
            for precision in PRECISIONS:
                config = replace(base, seed=seed, precision=precision)
                key = {
                    "train": str(args.train),
                    "test": str(args.test),
                    "classifier": args.classifier,
                    "image_size": args.image_size,
                    "config": config.to_dict(),
                    "threads": torch.get_num_threads(),
                }
                run_dir = root / f"{precision}-seed{seed}"
                path = run_dir / "figures.json" if args.out else None
                row = _cached(path, key)
                if row is None:
                    print(f"classifier: {precision} seed {seed}", file=sys.stderr, flush=True)
                    w0, c0 = time.perf_counter(), time.process_time()
                    record = fit_and_evaluate(
                        Recipe(spec, config, pipeline),
                        RunData(train, val, test, positive),
                        placement=Placement(torch.device("cpu")),
                        run_dir=run_dir,
                    )
                    row = {
                        **{m: _r(record.metrics.get(m)) for m in CLASSIFIER_METRICS},
                        "best_epoch": record.best_epoch,
                        "epochs_run": record.epochs_run,
                        "threshold": _r(record.threshold),
                        "train_seconds": round(record.seconds, 1),
                        "wall_minutes": round((time.perf_counter() - w0) / 60, 2),
                        "cpu_minutes": round((time.process_time() - c0) / 60, 2),
                        "load_avg": round(os.getloadavg()[0], 2),
                    }
                    _store(path, key, row)
                per_seed[precision][seed] = row
                print(
                    json.dumps({"classifier": f"{precision} seed {seed}", **row}), file=sys.stderr
                )
    comparison = compare_precisions(per_seed, CLASSIFIER_METRICS)
    return {
        "train": str(args.train),
        "test": str(args.test) if args.test else "30% of --train (patient-grouped)",
        "classifier": args.classifier,
        "image_size": args.image_size,
        "positive_class": classes[positive] if positive is not None else None,
        "n_test": len(test),
        "test_counts": test.counts(),
        "epochs": args.epochs,
        "seeds": args.seed_list,
        "threads": torch.get_num_threads(),
        "note": "bf16 is the training precision; evaluation runs in fp32 (medaug's predict)",
        "rule": "within seed spread: |mean_bf16 - mean_fp32| <= 2 x max(sd_fp32, sd_bf16); "
        "paired: 95% t interval of bf16 - fp32 over seeds",
        "runs": {p: {str(s): r for s, r in per_seed[p].items()} for p in PRECISIONS},
        "comparison": comparison,
        "all_paired_ci_contain_zero": all(
            comparison[m].get("paired_ci_contains_zero") is not False for m in CLASSIFIER_METRICS
        ),
        "all_within_seed_spread": all(
            comparison[m].get("within_seed_spread") is not False for m in CLASSIFIER_METRICS
        ),
        "minutes": round((time.perf_counter() - started) / 60, 2),
    }


# -- main ---------------------------------------------------------------------------------

SECTIONS: dict[str, Callable[[argparse.Namespace], dict[str, Any]]] = {
    "speed": section_speed,
    "gan": section_gan,
    "classifier": section_classifier,
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--section", choices=(*SECTIONS, "all"), default="all", help="what to measure"
    )
    parser.add_argument("--train", type=Path, help="a ROOT/<class>/ folder (gan, classifier)")
    parser.add_argument("--test", type=Path, help="the classifier's test folder")
    parser.add_argument("--out", type=Path, help="keep finished runs here (reused by a rerun)")
    parser.add_argument("--cache-dir", type=Path, help="decode/extractor cache")
    parser.add_argument("--threads", type=int, help="torch threads for gan and classifier")
    parser.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1")
    parser.add_argument("--image-size", type=int, default=64, help="gan and classifier size")
    parser.add_argument("--batch-size", type=int, default=64)
    # speed
    parser.add_argument("--speed-threads", type=int, default=1)
    parser.add_argument("--speed-image-size", type=int, default=64)
    parser.add_argument("--speed-steps", type=int, default=5, help="timed steps per round")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--speed-classifiers", default="simple-cnn,timm:resnet18")
    parser.add_argument(
        "--speed-variants", default=None, help="comma-separated name parts to keep (default all)"
    )
    # gan
    parser.add_argument("--gan-class", default="NORMAL")
    parser.add_argument("--gan-preset", default="compact")
    parser.add_argument("--gen-steps", type=int, default=1500)
    parser.add_argument("--samples", type=int, default=1000, help="synthetic images audited")
    # classifier
    parser.add_argument("--classifier", default="simple-cnn")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="tiny sizes on the bundled sample")
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds = 1 if args.seeds == 3 else args.seeds
        args.image_size = 32  # the plain DCGAN is 64 px only: speed stays at 64 px
        args.batch_size = 8
        args.speed_steps, args.warmup, args.rounds = 1, 1, 1
        args.gen_steps, args.samples, args.epochs = 1, 32, 1  # one epoch of the GAN
        args.train = args.train or SAMPLE_DATA
    if args.section in ("gan", "classifier", "all") and args.train is None:
        parser.error(f"--section {args.section} needs --train")
    args.seed_list = list(range(args.seeds))
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    from medaug.precision import cpu_has_amx

    if not cpu_has_amx():
        print("note: this CPU has no AMX: bf16 is emulated here", file=sys.stderr)
    result: dict[str, Any] = {"machine": machine(), "quick": args.quick}
    sections = list(SECTIONS) if args.section == "all" else [args.section]
    threads = args.threads or torch.get_num_threads()
    for name in sections:
        if name != "speed":
            torch.set_num_threads(threads)
        t0 = time.perf_counter()
        result[name] = SECTIONS[name](args)
        result[name]["section_minutes"] = round((time.perf_counter() - t0) / 60, 2)
        result["load_avg_end"] = [round(x, 2) for x in os.getloadavg()]
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return result


if __name__ == "__main__":
    main()
