"""``generate``: sample N images per class from trained generator checkpoints."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import torch

from medaug.atomic import atomic_write_json, read_json_record
from medaug.digests import sha256_file
from medaug.errors import ConfigError, MedaugError
from medaug.generation.checkpoint import build_generator, load_checkpoint
from medaug.generation.progress import NullReporter, Reporter
from medaug.generation.sampling import SampleJob, expected_paths, sample_to_files
from medaug.generation.writer import Series, new_uid
from medaug.output import claim_output
from medaug.output.layout import MANIFEST_NAME
from medaug.output.manifest import read_manifest, write_manifest


@dataclass
class GenerateResult:
    """What ``generate`` wrote."""

    out: Path
    written: dict[str, int]
    checkpoints: list[Path]
    manifest: Path

    @property
    def summary(self) -> dict[str, Any]:
        return {
            "out": str(self.out),
            "written": self.written,
            "checkpoints": [str(p) for p in self.checkpoints],
            "manifest": str(self.manifest),
        }


def find_checkpoints(path: Path) -> list[Path]:
    """``path`` itself, or every ``*.pt`` in a folder (``OUT/checkpoints``)."""
    if path.is_dir():
        found = sorted(p for p in path.glob("*.pt") if not p.name.startswith("."))
        if not found:
            raise MedaugError(f"no checkpoint (*.pt) in {path}")
        return found
    if not path.exists():
        raise MedaugError(f"checkpoint {path} does not exist")
    return [path]


GENERATE_MARKER = ".medaug-generate.json"
GENERATE_KIND = "medaug-generate-output"
#: the advice after a failed write (a full disk)
RERUN = "run the same command again (the images written so far are kept)"


def checkpoint_inputs(checkpoint: Path, paths: list[Path]) -> list[Path]:
    """What ``generate`` reads: ``checkpoint`` (a file or a folder) and, for a balance
    output's checkpoints, that run's ``checkpoints/``, ``dataset/`` and DATA."""
    from medaug.output.layout import OutputLayout
    from medaug.output.runstate import load_state

    inputs = [checkpoint]
    for folder in sorted({p.parent for p in paths}):
        layout = OutputLayout.find(folder.parent)
        state = load_state(layout.root) if layout is not None else None
        if layout is not None and state is not None:
            inputs += [layout.checkpoints, layout.dataset_root]
            if state.settings.get("data"):
                inputs.append(Path(state.settings["data"]))
    return inputs


def _read_jobs(out: Path) -> dict[str, dict[str, Any]]:
    """The jobs earlier ``generate`` runs started in ``out`` (``<class folder>/<seed>``)."""
    raw = read_json_record(
        out / GENERATE_MARKER, kind=GENERATE_KIND, what="a medaug generate record"
    )
    jobs = raw.get("jobs", {}) if raw is not None else {}
    return dict(jobs) if isinstance(jobs, dict) else {}


def _job_key(job: SampleJob) -> str:
    return f"{job.out_dir.name}/{job.seed}"


def _check_clash(job: SampleJob, started: dict[str, Any]) -> None:
    """Existing images of ``job`` are a run of the same checkpoint and seed to finish;
    anything else is refused (medaug never overwrites images)."""
    clash = next((p for p in expected_paths(job) if p.exists()), None)
    if clash is None or started.get("checkpoint_sha256") == job.checkpoint_sha256:
        return
    raise MedaugError(
        f"{clash} already exists, from another checkpoint or run; use another --seed or "
        "--out (medaug never overwrites images)"
    )


def _plan(
    loaded: list[tuple[Path, Any, Any]], n: int, seed: int, out: Path, started: dict[str, Any]
) -> list[tuple[Any, Any, SampleJob]]:
    """One sampling job per class of each checkpoint (an interrupted one keeps its UIDs)."""
    from medaug.data import class_folder_name

    jobs: list[tuple[Any, Any, SampleJob]] = []
    study_uid = next((j["study_uid"] for j in started.values() if j.get("study_uid")), new_uid())
    for path, info, state in loaded:
        classes = info.class_names if len(info.class_names) > 1 else [info.class_name]
        sha = sha256_file(path)
        for cls in classes:
            job = SampleJob(
                class_name=cls,
                class_index=info.class_names.index(cls) if cls in info.class_names else 0,
                n=n,
                seed=seed,
                out_dir=out / class_folder_name(cls),
                root=out,
                generator_name=info.generator,
                generator_options=info.generator_options,
                checkpoint_sha256=sha,
                output_format=info.output_format,
                bit_depth=info.bit_depth,
            )
            before = started.get(_job_key(job), {})
            _check_clash(job, before)
            if info.output_format == "dicom":
                uid = before.get("series_uid") or new_uid()
                job.series = Series(cls, study_uid, uid, len(jobs) + 1)
            jobs.append((info, state, job))
    return jobs


def _record_jobs(
    out: Path, jobs: list[tuple[Any, Any, SampleJob]], started: dict[str, Any]
) -> None:
    """Write the jobs before sampling: a killed run is recognised and finished by a rerun."""
    for _info, _state, job in jobs:
        started[_job_key(job)] = {
            "checkpoint_sha256": job.checkpoint_sha256,
            "study_uid": job.series.study_uid if job.series else "",
            "series_uid": job.series.series_uid if job.series else "",
        }
    atomic_write_json(
        out / GENERATE_MARKER,
        {
            "kind": GENERATE_KIND,
            "note": "synthetic images only; see manifest.csv",
            "jobs": started,
        },
    )


def _sample(
    jobs: list[tuple[Any, Any, SampleJob]],
    device: torch.device,
    rows: dict[str, Any],
    reporter: Reporter,
) -> dict[str, int]:
    """Write every job's missing images; ``rows`` gains their manifest rows. Returns the
    number of images per class."""
    written: dict[str, int] = {}
    built: dict[int, Any] = {}
    for info, state, job in jobs:
        gen = built.get(id(state))
        if gen is None:
            gen = built[id(state)] = build_generator(info, device, state)
        on_written = partial(reporter.sampled, job.class_name)
        for row in sample_to_files(gen, job, on_written=on_written):
            rows[row.path] = row
        written[job.class_name] = written.get(job.class_name, 0) + job.n
    return written


def generate(
    checkpoint: Path,
    n: int,
    out: Path,
    *,
    seed: int = 0,
    device: str | torch.device = "auto",
    reporter: Reporter | None = None,
) -> GenerateResult:
    """Write ``n`` synthetic images per class of each checkpoint into ``out/<class>/``.

    File names, seeds and PNG metadata are those of ``medaug balance``, so the same
    checkpoint and seed reproduce a balance run's images. ``out`` is claimed
    (:func:`~medaug.output.claim_output`): new, empty or medaug's, outside the
    checkpoints' folders and any dataset. Existing files are never overwritten; the same
    command run again finishes an interrupted run; ``out/manifest.csv`` gains one row
    per new file. ``reporter`` hears warnings (a checkpoint of an unfinished training) and
    the images written.
    """
    from medaug.runtime import resolve_device

    if n < 1:
        raise ConfigError(f"{{n}} must be at least 1, got {n}", "n")
    if seed < 0:
        raise ConfigError(f"{{seed}} must be >= 0, got {seed}", "seed")
    dev = resolve_device(device)
    reporter = reporter or NullReporter()
    paths = find_checkpoints(Path(checkpoint))
    loaded = [(p, *load_checkpoint(p)) for p in paths]
    for path, info, _state in loaded:
        if not info.complete:
            reporter.message(
                f"{path.name}: training stopped after {info.epochs_done}/{info.epochs} epochs"
            )
    out = Path(out).absolute()
    with claim_output(
        out,
        command="generate",
        inputs=checkpoint_inputs(Path(checkpoint), paths),
        datasets=["."],
        rerun=RERUN,
    ):
        started = _read_jobs(out)
        jobs = _plan(loaded, n, seed, out, started)
        _record_jobs(out, jobs, started)
        manifest = out / MANIFEST_NAME
        rows = {r.path: r for r in read_manifest(manifest)}
        written = _sample(jobs, dev, rows, reporter)
        write_manifest(manifest, rows.values())
    return GenerateResult(out, written, paths, manifest)
