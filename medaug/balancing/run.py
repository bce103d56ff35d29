"""``balance``: train a generator per minority class and write a balanced dataset.

The steps, each restartable: check the output folder (fresh, own interrupted run, own
finished run, or refuse), load the data, decide the counts (:mod:`.strategy`), link the
real images, train each generator with per-epoch checkpoints (:mod:`.trainer`), write the
synthetic images (:mod:`.sampling`), then the manifest and the report.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import torch

from medaug import __version__
from medaug.atomic import remove_stale_tmp
from medaug.balancing.checkpoint import CheckpointInfo
from medaug.balancing.files import LINK_MODES, link_file, tree_contains
from medaug.balancing.manifest import MANIFEST_NAME, ManifestRow, write_manifest
from medaug.balancing.progress import NullReporter, Reporter
from medaug.balancing.report import (
    make_grid,
    plot_losses,
    read_synthetic,
    save_image,
    side_by_side,
    write_report_md,
)
from medaug.balancing.runstate import RunState, load_state, now_iso, settings_diff
from medaug.balancing.sampling import SampleJob, sample_to_files
from medaug.balancing.strategy import parse_strategy, resolve_targets
from medaug.balancing.trainer import TrainJob, train
from medaug.balancing.writer import DicomSeries, new_uid
from medaug.data.files import NOT_A_CLASS_MARKER
from medaug.data.options import read_settings
from medaug.errors import MedaugError

DEFAULT_EPOCHS = 25
DEFAULT_BATCH_SIZE = 64
DEMO_EPOCHS = 20
DEMO_BATCH_SIZE = 16
DEMO_OUT = Path("medaug-demo")
SAMPLE_NAME = "chestxray2017-sample"
CHECKPOINTS = "checkpoints"
REPORT = "report"


def sample_data_path() -> Path:
    """The bundled ChestXray2017 sample (a few hundred 64 px images, CC BY 4.0)."""
    path = Path(str(resources.files("medaug.sample_data") / SAMPLE_NAME))
    if not path.is_dir():
        raise MedaugError(f"the bundled sample is missing from this installation ({path})")
    return path


@dataclass
class BalanceConfig:
    """Everything ``medaug balance`` takes; ``data=None`` means the bundled sample."""

    out: Path
    data: Path | None = None
    generator: str = "dcgan"
    strategy: str | float | Mapping[str, int] | None = None
    count: int | None = None
    image_size: int = 64
    channels: int | str = "auto"
    epochs: int | None = None  # None: DEFAULT_EPOCHS (DEMO_EPOCHS for the bundled sample)
    batch_size: int | None = None
    seed: int = 0
    device: str | torch.device = "auto"
    labels: Path | None = None
    label_tag: str | None = None
    resume: bool = False
    link: str = "hardlink"
    generator_options: dict[str, Any] = field(default_factory=dict)
    cache_dir: Path | None = None
    workers: int | None = None
    progress: bool = True  # decoding progress of the data loader
    #: more ``load_dataset`` keyword arguments (reader, patient_regex, id_column, ...);
    #: may also carry labels/label_tag/cache_dir/workers instead of the fields above
    data_options: dict[str, Any] = field(default_factory=dict)

    def load_options(self) -> dict[str, Any]:
        """The ``load_dataset`` keyword arguments: the fields above plus
        :attr:`data_options` (a key set in both must agree)."""
        opts: dict[str, Any] = {
            "labels": self.labels,
            "label_tag": self.label_tag,
            "cache_dir": self.cache_dir,
            "workers": self.workers,
        }
        for key, value in self.data_options.items():
            if value is None:
                opts.setdefault(key, None)
                continue
            if opts.get(key) is not None and str(opts[key]) != str(value):
                raise MedaugError(
                    f"{key} given twice with different values: {opts[key]!r} and {value!r}"
                )
            opts[key] = value
        return opts


@dataclass
class BalanceResult:
    """The outcome: the summary printed by ``--json`` plus a few handy paths."""

    summary: dict[str, Any]
    out: Path
    manifest: Path
    report: Path
    already_complete: bool = False


# -- output folder checks ------------------------------------------------------------------


def _settings(cfg: BalanceConfig, data: Path, epochs: int, batch_size: int) -> dict[str, Any]:
    strategy = parse_strategy(cfg.strategy)
    read = read_settings(cfg.load_options())
    settings = {
        "data": str(data),
        "generator": cfg.generator,
        "generator_options": dict(sorted(cfg.generator_options.items())),
        "strategy": strategy if not isinstance(strategy, dict) else dict(sorted(strategy.items())),
        "count": cfg.count,
        "image_size": cfg.image_size,
        "channels": str(cfg.channels),
        "epochs": epochs,
        "batch_size": batch_size,
        "seed": cfg.seed,
        "labels": read.pop("labels", None),
        "label_tag": read.pop("label_tag", None),
        "link": cfg.link,
    }
    # other reading options only when given, so default runs keep their old settings
    if read:
        settings["data_options"] = read
    return settings


def _check_out(out: Path, data: Path, settings: dict[str, Any], resume: bool) -> RunState | None:
    """The run state to continue, ``None`` for a fresh run; raise when OUT is not usable."""
    if tree_contains(data, out):
        raise MedaugError(f"--out {out} is inside the input {data}; medaug never writes into DATA")
    if out.exists() and not out.is_dir():
        raise MedaugError(f"--out {out} exists and is not a folder")
    if not out.exists() or not any(out.iterdir()):
        return None
    state = load_state(out)
    if state is None:
        raise MedaugError(
            f"--out {out} is not empty and is not a medaug balance run; choose a new folder"
        )
    diff = settings_diff(state.settings, settings)
    if diff:
        raise MedaugError(
            f"{out} holds a run with other settings ({'; '.join(diff)}); "
            "choose another --out or repeat the original command"
        )
    if state.status != "complete" and not resume:
        raise MedaugError(
            f"{out} holds an interrupted run; add --resume to continue it (or choose another --out)"
        )
    return state


# -- real files ----------------------------------------------------------------------------


def _real_names(records: list[Any], data_root: Path) -> dict[Path, str]:
    """A unique output file name for every real file of one class."""
    names: dict[Path, str] = {}
    taken: set[str] = set()
    for rec in records:
        if rec.path in names:
            continue  # another frame of a multi-frame file
        name = rec.path.name
        if name.startswith(("synthetic_", ".")):
            name = "real_" + name.lstrip(".")
        if name.casefold() in taken:
            try:
                rel = rec.path.relative_to(data_root)
            except ValueError:
                rel = Path(*rec.path.parts[-3:])
            name = "__".join(rel.parts)
        base, n = name, 1
        while name.casefold() in taken:
            name = f"{n}_{base}"
            n += 1
        taken.add(name.casefold())
        names[rec.path] = name
    return names


def _link_reals(
    ds: Any, folders: Mapping[str, str], out: Path, mode: str, created: str
) -> list[ManifestRow]:
    rows: list[ManifestRow] = []
    for cls in ds.classes:
        recs = [ds.records[i] for i in ds.class_indices(cls)]
        for src, name in _real_names(recs, Path(ds.root)).items():
            dst = out / folders[cls] / name
            if not dst.exists():
                link_file(src, dst, mode)
            rows.append(
                ManifestRow(
                    path=dst.relative_to(out).as_posix(),
                    label=cls,
                    source="real",
                    original_path=str(src),
                    medaug_version=__version__,
                    created=created,
                )
            )
    return rows


# -- the run -------------------------------------------------------------------------------


def _load(cfg: BalanceConfig, data: Path) -> Any:
    from medaug.data import load_dataset

    return load_dataset(
        data,
        image_size=cfg.image_size,
        channels=cfg.channels,
        progress=cfg.progress,
        min_classes=2,
        **cfg.load_options(),
    )


def _probe_generator(cfg: BalanceConfig, channels: int, device: torch.device) -> Any:
    """Build one generator first, so bad names and options fail before OUT is touched."""
    from medaug.plugins import create_generator, registry

    entry = registry("generator").get(cfg.generator)
    sizes = getattr(entry.factory, "supported_sizes", ())
    if sizes and cfg.image_size not in sizes:
        raise MedaugError(
            f"generator {cfg.generator!r} supports image sizes "
            f"{', '.join(map(str, sizes))}; got --image-size {cfg.image_size}"
        )
    try:
        return create_generator(
            cfg.generator,
            image_size=cfg.image_size,
            channels=channels,
            device=device,
            num_classes=1,
            **cfg.generator_options,
        )
    except TypeError as exc:
        raise MedaugError(f"generator {cfg.generator!r}: {exc}") from exc


def balance(cfg: BalanceConfig, reporter: Reporter | None = None) -> BalanceResult:
    """Balance ``cfg.data`` into ``cfg.out`` (see :class:`BalanceConfig`)."""
    from medaug.data import class_folder_names
    from medaug.runtime import resolve_device, seed_everything

    reporter = reporter or NullReporter()
    t_start = time.perf_counter()
    bundled = cfg.data is None
    data = (sample_data_path() if cfg.data is None else Path(cfg.data)).resolve()
    if not data.exists():
        raise MedaugError(f"DATA {cfg.data} does not exist")
    if cfg.link not in LINK_MODES:
        raise MedaugError(f"invalid --link {cfg.link!r}: expected {'|'.join(LINK_MODES)}")
    epochs = cfg.epochs if cfg.epochs is not None else (DEMO_EPOCHS if bundled else DEFAULT_EPOCHS)
    batch_size = cfg.batch_size or (DEMO_BATCH_SIZE if bundled else DEFAULT_BATCH_SIZE)
    if epochs < 1 or batch_size < 1:
        raise MedaugError("--epochs and --batch-size must be at least 1")
    out = Path(cfg.out).absolute()
    settings = _settings(cfg, data, epochs, batch_size)
    state = _check_out(out, data, settings, cfg.resume)
    if state is not None and state.status == "complete":
        summary = dict(state.summary, status="already_complete")
        return BalanceResult(
            summary, out, out / MANIFEST_NAME, out / REPORT / "report.md", already_complete=True
        )
    device = resolve_device(cfg.device)
    seed_everything(cfg.seed)

    t_load = time.perf_counter()
    ds = _load(cfg, data)
    load_seconds = time.perf_counter() - t_load
    counts = ds.counts()
    to_add = resolve_targets(counts, cfg.strategy, cfg.count)
    folders = class_folder_names(ds.classes)
    probe = _probe_generator(cfg, ds.channels, device)

    resumed = state is not None
    if state is None:
        state = RunState(settings=settings)
    else:
        reporter.message(f"resuming the interrupted run in {out}")
    _prepare_out(out, state, notice=data / "NOTICE.md" if bundled else None)

    rows = _link_reals(ds, folders, out, cfg.link, state.started)
    seconds: dict[str, Any] = state.summary["seconds"]
    seconds["load"] = seconds.get("load", 0.0) + load_seconds
    class_seconds: dict[str, dict[str, float]] = seconds.setdefault("classes", {})
    histories: dict[str, dict[str, list[float]]] = {}
    checkpoints: dict[str, str] = {}
    conditional = bool(getattr(probe, "conditional", False))
    units = _units(ds, to_add, folders, conditional)
    for unit_name, unit_classes, idx in units:
        cls_state = state.class_state(unit_name)
        job = _train_job(
            cfg, ds, unit_name, idx, probe, epochs, batch_size, out, folders, conditional
        )
        generator = (
            probe if unit_name == units[0][0] else _probe_generator(cfg, ds.channels, device)
        )
        result = train(job, generator, reporter)
        t = class_seconds.setdefault(unit_name, {"train": 0.0, "sample": 0.0})
        t["train"] += result.seconds
        cls_state.update(trained=True, epochs=result.info.epochs_done)
        state.save(out)
        for cls in unit_classes:
            histories[cls] = result.history
            checkpoints[cls] = str(result.checkpoint.relative_to(out))
            rows += _sample_class(cfg, ds, cls, to_add[cls], folders, out, result, state, reporter)
            t["sample"] += state.class_state(cls).pop("_last_sample_seconds", 0.0)
            state.save(out)
        del generator

    summary = _finish(
        cfg,
        ds,
        out,
        data,
        bundled,
        to_add,
        folders,
        rows,
        histories,
        checkpoints,
        state,
        device,
        resumed,
        time.perf_counter() - t_start,
    )
    return BalanceResult(summary, out, out / MANIFEST_NAME, out / REPORT / "report.md")


def _prepare_out(out: Path, state: RunState, notice: Path | None) -> None:
    """Create OUT with its state file, markers and notice; drop stale temporary files."""
    out.mkdir(parents=True, exist_ok=True)
    state.summary.setdefault("seconds", {"load": 0.0, "total": 0.0, "classes": {}})
    state.save(out)
    remove_stale_tmp(out)
    for sub in (CHECKPOINTS, REPORT):
        (out / sub).mkdir(exist_ok=True)
        (out / sub / NOT_A_CLASS_MARKER).write_text(
            "medaug output, not a class of the balanced dataset\n", encoding="utf-8"
        )
    if notice is not None:
        link_file(notice, out / notice.name, "copy")


def _train_job(
    cfg: BalanceConfig,
    ds: Any,
    unit: str,
    idx: Any,
    probe: Any,
    epochs: int,
    batch_size: int,
    out: Path,
    folders: Mapping[str, str],
    conditional: bool,
) -> TrainJob:
    """What to train for one class (or for all, with a conditional generator)."""
    return TrainJob(
        name=unit,
        images=ds.to_tensor(idx),
        labels=torch.as_tensor(ds.targets[idx]) if conditional else None,
        info=CheckpointInfo(
            generator=cfg.generator,
            generator_options=probe.options(),
            image_size=cfg.image_size,
            channels=ds.channels,
            class_name=unit,
            class_names=list(ds.classes) if conditional else [unit],
            seed=cfg.seed,
            epochs=epochs,
            epochs_done=0,
            batch_size=batch_size,
            complete=False,
            output_format="dicom" if ds.source_format == "dicom" else "png",
            bit_depth=ds.bit_depth,
            history={},
        ),
        checkpoint=out / CHECKPOINTS / f"{_unit_file(unit, folders)}.pt",
        grid_dir=out / REPORT / "progress" / _unit_file(unit, folders),
    )


def _units(
    ds: Any, to_add: Mapping[str, int], folders: Mapping[str, str], conditional: bool
) -> list[tuple[str, list[str], Any]]:
    """What to train: one generator per class to grow, or one conditional for all."""
    import numpy as np

    if not to_add:
        return []
    if conditional:
        return [("all-classes", sorted(to_add), np.arange(len(ds)))]
    return [(cls, [cls], ds.class_indices(cls)) for cls in sorted(to_add)]


def _unit_file(unit: str, folders: Mapping[str, str]) -> str:
    return folders.get(unit, unit)


def _sample_class(
    cfg: BalanceConfig,
    ds: Any,
    cls: str,
    n: int,
    folders: Mapping[str, str],
    out: Path,
    result: Any,
    state: RunState,
    reporter: Reporter,
) -> list[ManifestRow]:
    cls_state = state.class_state(cls)
    series = None
    if result.info.output_format == "dicom":
        if "study_uid" not in state.summary:
            state.summary["study_uid"] = new_uid()
        cls_state.setdefault("series_uid", new_uid())
        state.save(out)
        series = DicomSeries(
            class_name=cls,
            study_uid=state.summary["study_uid"],
            series_uid=cls_state["series_uid"],
            series_number=ds.classes.index(cls) + 1,
        )
    job = SampleJob(
        class_name=cls,
        class_index=ds.classes.index(cls),
        n=n,
        seed=cfg.seed,
        out_dir=out / folders[cls],
        root=out,
        generator_name=cfg.generator,
        generator_options=result.info.generator_options,
        checkpoint_sha256=result.sha256,
        output_format=result.info.output_format,
        bit_depth=result.info.bit_depth,
        series=series,
    )
    t0 = time.perf_counter()
    reporter.sampling(cls, n)
    rows = sample_to_files(result.generator, job, on_written=lambda k: reporter.sampled(cls, k))
    cls_state.update(sampled=n, _last_sample_seconds=time.perf_counter() - t0)
    return rows


def _finish(
    cfg: BalanceConfig,
    ds: Any,
    out: Path,
    data: Path,
    bundled: bool,
    to_add: Mapping[str, int],
    folders: Mapping[str, str],
    rows: list[ManifestRow],
    histories: Mapping[str, Mapping[str, list[float]]],
    checkpoints: Mapping[str, str],
    state: RunState,
    device: torch.device,
    resumed: bool,
    elapsed: float,
) -> dict[str, Any]:
    counts = ds.counts()
    after = {c: counts[c] + to_add.get(c, 0) for c in ds.classes}
    manifest = out / MANIFEST_NAME
    write_manifest(manifest, rows)
    figures: dict[str, dict[str, str]] = {}
    for cls in sorted(to_add):
        folder = folders[cls]
        figs: dict[str, str] = {}
        if histories.get(cls):
            plot_losses(out / REPORT / f"losses_{folder}.png", cls, histories[cls])
            figs["losses"] = f"losses_{folder}.png"
        idx = ds.class_indices(cls)
        pick = torch.randperm(len(idx), generator=torch.Generator().manual_seed(cfg.seed))[:64]
        real = ds.to_tensor(idx[pick.numpy()])
        synth_paths = sorted(
            out / r.path for r in rows if r.label == cls and r.source == "synthetic"
        )[:64]
        synth = read_synthetic(synth_paths, ds.channels)
        save_image(
            out / REPORT / f"samples_{folder}.png",
            side_by_side(make_grid(real), make_grid(synth)),
        )
        figs["samples"] = f"samples_{folder}.png"
        figs["progress"] = f"progress/{folder}/"
        figures[cls] = figs
    seconds = state.summary.get("seconds", {})
    seconds["total"] = seconds.get("total", 0.0) + elapsed
    state.status = "complete"
    state.finished = now_iso()
    summary: dict[str, Any] = {
        "status": "complete",
        "data": str(data),
        "bundled": bundled,
        "out": str(out),
        "generator": cfg.generator,
        "device": str(device),
        "classes": list(ds.classes),
        "counts_before": counts,
        "added": {c: to_add.get(c, 0) for c in ds.classes},
        "counts_after": after,
        "skipped_inputs": len(ds.skipped),
        "output_format": "dicom" if ds.source_format == "dicom" else "png",
        "manifest": str(manifest),
        "manifest_rows": len(rows),
        "report": str(out / REPORT / "report.md"),
        "checkpoints": {c: str(out / p) for c, p in checkpoints.items()},
        "resumed": resumed,
        "started": state.started,
        "finished": state.finished,
        "seconds": seconds,
    }
    if "study_uid" in state.summary:
        summary["study_uid"] = state.summary["study_uid"]
    notes = []
    if bundled:
        notes.append(
            "bundled demo sample of ChestXray2017 (Kermany et al., CC BY 4.0, see NOTICE.md); "
            f"short training ({state.settings['epochs']} epochs): expect rough images"
        )
    write_report_md(
        out / REPORT / "report.md",
        summary=summary,
        settings={**state.settings, "device": str(device), "medaug": __version__},
        images=figures,
        notes=notes,
    )
    state.summary = summary
    state.save(out)
    return summary


__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_EPOCHS",
    "DEMO_BATCH_SIZE",
    "DEMO_EPOCHS",
    "DEMO_OUT",
    "BalanceConfig",
    "BalanceResult",
    "balance",
    "sample_data_path",
]
