"""``generate``: sample N images per class from trained generator checkpoints."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from medaug.atomic import atomic_write_json, remove_stale_tmp
from medaug.balancing.checkpoint import build_generator, load_checkpoint
from medaug.balancing.files import sha256_file
from medaug.balancing.layout import MANIFEST_NAME
from medaug.balancing.manifest import read_manifest, write_manifest
from medaug.balancing.sampling import SampleJob, expected_paths, sample_to_files
from medaug.balancing.writer import DicomSeries, new_uid
from medaug.errors import MedaugError


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


def check_generate_out(out: Path) -> None:
    """Refuse an ``--out`` that holds anything but a previous ``generate`` output: images
    written into a real dataset folder would later read back as real."""
    if out.exists() and not out.is_dir():
        raise MedaugError(f"--out {out} exists and is not a folder")
    if not out.exists() or (out / GENERATE_MARKER).is_file():
        return
    visible = [p for p in out.iterdir() if not p.name.startswith(".")]
    if not visible:
        return
    rows = read_manifest(out / MANIFEST_NAME) if (out / MANIFEST_NAME).is_file() else []
    if rows and all(r.source == "synthetic" for r in rows):
        return  # written by a medaug generate from before the marker existed
    raise MedaugError(
        f"--out {out} holds files that are not a medaug generate output (a real dataset?); "
        "synthetic images written there would later read back as real: choose an empty "
        "or new folder"
    )


def generate(
    checkpoint: Path,
    n: int,
    out: Path,
    *,
    seed: int = 0,
    device: str | torch.device = "auto",
    warn: Callable[[str], None] | None = None,
    on_written: Callable[[str, int], None] | None = None,
) -> GenerateResult:
    """Write ``n`` synthetic images per class of each checkpoint into ``out/<class>/``.

    File names, seeds and PNG metadata are those of ``medaug balance``, so the same
    checkpoint and seed reproduce a balance run's images. Existing files are never
    overwritten; ``out/manifest.csv`` gains one row per new file.
    """
    from medaug.data import class_folder_name
    from medaug.runtime import resolve_device

    if n < 1:
        raise MedaugError(f"-n must be at least 1, got {n}")
    if seed < 0:
        raise MedaugError(f"--seed must be >= 0, got {seed}")
    dev = resolve_device(device)
    paths = find_checkpoints(Path(checkpoint))
    loaded = [(p, *load_checkpoint(p)) for p in paths]
    out = Path(out).absolute()
    check_generate_out(out)
    jobs: list[tuple[Any, Any, SampleJob]] = []
    study_uid = new_uid()
    for path, info, state in loaded:
        if not info.complete and warn is not None:
            warn(f"{path.name}: training stopped after {info.epochs_done}/{info.epochs} epochs")
        classes = info.class_names if len(info.class_names) > 1 else [info.class_name]
        sha = sha256_file(path)
        for cls in classes:
            folder = class_folder_name(cls)
            series = None
            if info.output_format == "dicom":
                series = DicomSeries(cls, study_uid, new_uid(), len(jobs) + 1)
            job = SampleJob(
                class_name=cls,
                class_index=info.class_names.index(cls) if cls in info.class_names else 0,
                n=n,
                seed=seed,
                out_dir=out / folder,
                root=out,
                generator_name=info.generator,
                generator_options=info.generator_options,
                checkpoint_sha256=sha,
                output_format=info.output_format,
                bit_depth=info.bit_depth,
                series=series,
            )
            clash = [p for p in expected_paths(job) if p.exists()]
            if clash:
                raise MedaugError(
                    f"{clash[0]} already exists; use another --seed or --out (medaug never "
                    "overwrites images)"
                )
            jobs.append((info, state, job))
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(
        out / GENERATE_MARKER,
        {"kind": "medaug-generate-output", "note": "synthetic images only; see manifest.csv"},
    )
    remove_stale_tmp(out)
    rows = {r.path: r for r in read_manifest(out / MANIFEST_NAME)}
    written: dict[str, int] = {}
    built: dict[int, Any] = {}
    for info, state, job in jobs:
        gen = built.get(id(state))
        if gen is None:
            gen = built[id(state)] = build_generator(info, dev, state)
        cb = (lambda k, c=job.class_name: on_written(c, k)) if on_written else None
        for row in sample_to_files(gen, job, on_written=cb):
            rows[row.path] = row
        written[job.class_name] = written.get(job.class_name, 0) + job.n
    manifest = out / MANIFEST_NAME
    write_manifest(manifest, rows.values())
    return GenerateResult(out, written, paths, manifest)
