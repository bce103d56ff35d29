"""The audit entry points on files: one-class folders, a balance output; writing results."""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch

from medaug.atomic import atomic_write_json, atomic_write_text
from medaug.auditing.engine import audit_sets
from medaug.auditing.extractors import ExtractorSpec, PreparedExtractor
from medaug.auditing.images import ImageSet
from medaug.auditing.report import report_markdown, write_closest_pairs
from medaug.auditing.results import AuditReport, ClassAudit
from medaug.auditing.settings import AuditConfig, AuditSettings
from medaug.auditing.sources import load_folder, load_output, missing_files
from medaug.data.files import require_dir
from medaug.data.names import class_folder_names
from medaug.data.options import DataOptions
from medaug.output import claim_output
from medaug.output.layout import OutputLayout

JSON_NAME = "audit.json"
MARKDOWN_NAME = "audit.md"
EXTRACTOR_NAME = "extractor.pt"


def _device(device: torch.device | str) -> torch.device:
    from medaug.runtime import resolve_device

    return resolve_device(device)


#: the keyword arguments :func:`audit` and :func:`audit_output` took before
#: :class:`AuditConfig` (still accepted, with a DeprecationWarning)
_LEGACY_KEYWORDS = ("image_size", "channels", "options", "extractor", "settings", "device")


def _config(function: str, config: AuditConfig | None, legacy: dict[str, Any]) -> AuditConfig:
    """``config`` (default: :class:`AuditConfig`) with the deprecated keyword arguments
    ``legacy`` mapped onto its fields (``None`` options, extractor or settings: their
    defaults, as before)."""
    config = AuditConfig() if config is None else config
    if not legacy:
        return config
    unknown = [k for k in legacy if k not in _LEGACY_KEYWORDS]
    if unknown:
        raise TypeError(f"{function}() got an unexpected keyword argument {unknown[0]!r}")
    given = ", ".join(f"{k}=..." for k in legacy)
    warnings.warn(
        f"{function}({given}) is deprecated: pass config=AuditConfig({given}) "
        "(medaug.auditing.AuditConfig) instead",
        DeprecationWarning,
        stacklevel=3,
    )
    defaults: dict[str, Any] = {
        "options": DataOptions(),
        "extractor": ExtractorSpec(),
        "settings": AuditSettings(),
    }
    return replace(
        config,
        **{k: defaults[k] if v is None and k in defaults else v for k, v in legacy.items()},
    )


def audit(
    real: Path | str,
    synthetic: Path | str,
    train: Path | str | None = None,
    *,
    config: AuditConfig | None = None,
    **legacy: Any,
) -> AuditReport:
    """Audit the images in folder ``synthetic`` against folder ``real`` (each folder is
    one class; ``train`` is the generator's training images, default ``real``). The class
    is named after the synthetic folder. Folders are read like any dataset, at
    ``config.image_size`` (default 64 px) and ``config.channels`` (default ``"auto"``).

    The keyword arguments ``image_size``, ``channels``, ``options``, ``extractor``,
    ``settings`` and ``device`` are deprecated: they are the fields of ``config``."""
    config = _config("audit", config, legacy)
    settings, extractor, options = config.settings, config.extractor, config.options
    image_size = config.image_size if config.image_size is not None else 64
    channels = config.channels if config.channels is not None else "auto"
    start = time.perf_counter()
    real_set, chans = load_folder(real, image_size=image_size, channels=channels, options=options)
    syn_set, _ = load_folder(synthetic, image_size=image_size, channels=chans, options=options)
    train_set = (
        load_folder(train, image_size=image_size, channels=chans, options=options)[0]
        if train is not None
        else None
    )
    seconds = {"load": time.perf_counter() - start}
    prepared = extractor.prepare(
        real_set.images,
        seed=settings.seed,
        device=_device(config.device),
        cache_dir=options.cache_dir,
    )
    seconds["extractor"] = time.perf_counter() - start - seconds["load"]
    name = Path(os.path.abspath(Path(synthetic).expanduser())).name or "synthetic"
    report = audit_classes([ClassImages(name, real_set, syn_set, train_set)], prepared, settings)
    seconds["total"] = time.perf_counter() - start
    source = {
        "real": str(require_dir(real)),
        "synthetic": str(require_dir(synthetic)),
        "train": str(require_dir(train)) if train is not None else str(require_dir(real)),
    }
    return replace(report, source=source, seconds=seconds)


def audit_output(
    root: Path | str,
    *,
    config: AuditConfig | None = None,
    classes: list[str] | None = None,
    **legacy: Any,
) -> AuditReport:
    """Audit every class a ``balance`` output grew (or those in ``classes``): its
    synthetic rows (manifest) against its real rows, which are also the generator's
    training images. A trained extractor learns from all real images of the output.
    ``config.image_size`` and ``config.channels`` default to the run's.

    The keyword arguments ``image_size``, ``channels``, ``options``, ``extractor``,
    ``settings`` and ``device`` are deprecated: they are the fields of ``config``."""
    config = _config("audit_output", config, legacy)
    settings, extractor, options = config.settings, config.extractor, config.options
    start = time.perf_counter()
    grown, all_real, _size, _chans = load_output(
        root,
        image_size=config.image_size,
        channels=config.channels,
        options=options,
        classes=classes,
    )
    seconds = {"load": time.perf_counter() - start}
    prepared = extractor.prepare(
        all_real.images,
        seed=settings.seed,
        device=_device(config.device),
        cache_dir=options.cache_dir,
    )
    seconds["extractor"] = time.perf_counter() - start - seconds["load"]
    pairs = [ClassImages(cls.name, cls.real, cls.synthetic) for cls in grown]
    report = audit_classes(pairs, prepared, settings)
    seconds["total"] = time.perf_counter() - start
    source = {"balance_output": str(Path(root).expanduser().resolve())}
    return replace(report, source=source, seconds=seconds, missing=tuple(missing_files(root)))


def _shape(images: ImageSet | torch.Tensor) -> tuple[int, ...]:
    return tuple((images.images if isinstance(images, ImageSet) else images).shape)


@dataclass(frozen=True)
class ClassImages:
    """One class to audit: its real and synthetic images (an
    :class:`~medaug.auditing.images.ImageSet` or a ``(N, C, H, W)`` tensor in
    ``[-1, 1]``), and ``train``, the generator's training images, when they are not the
    real ones."""

    name: str
    real: ImageSet | torch.Tensor
    synthetic: ImageSet | torch.Tensor
    train: ImageSet | torch.Tensor | None = None


def audit_classes(
    classes: Sequence[ClassImages], extractor: PreparedExtractor, settings: AuditSettings
) -> AuditReport:
    """Audit each class with one prepared extractor: the one audit path of ``medaug
    audit`` (folders or a balance output), ``balance`` and the experiment's ``gan`` arm.
    The report's ``source`` and ``seconds`` are the caller's to fill in."""
    results: dict[str, ClassAudit] = {
        c.name: audit_sets(
            c.real, c.synthetic, c.train, extractor=extractor, settings=settings, name=c.name
        )
        for c in classes
    }
    shape = _shape(classes[0].real) if classes else None
    built = extractor.extractor
    return AuditReport(
        extractor=extractor.name,
        extractor_sha256=extractor.sha256,
        extractor_info=extractor.to_json(),
        settings=settings,
        classes=results,
        image_size=shape[-1] if shape else int(built.image_size),
        channels=shape[1] if shape else int(built.channels),
        source={},
        seconds={},
        prepared=extractor,
    )


@dataclass(frozen=True)
class AuditFiles:
    """What :func:`write_audit` wrote."""

    json: Path
    markdown: Path
    closest_pairs: dict[str, Path] = field(default_factory=dict)
    extractor: Path | None = None


def input_paths(
    *,
    balance_output: Path | str | None = None,
    real: Path | str | None = None,
    synthetic: Path | str | None = None,
    train: Path | str | None = None,
) -> list[Path]:
    """What an audit reads: a balance output's dataset, manifest and run record, or the
    ``real``, ``synthetic`` and ``train`` folders (its output folder may overlap none)."""
    if balance_output is not None:
        layout = OutputLayout(Path(balance_output).expanduser())
        return [layout.dataset_root, layout.manifest, layout.state]
    return [Path(p) for p in (real, synthetic, train) if p is not None]


def write_audit(report: AuditReport, out: Path | str) -> AuditFiles:
    """Write ``audit.json``, ``audit.md``, ``closest_pairs_<class>.png`` and, for a trained
    extractor, ``extractor.pt`` (its weights and provenance) into ``out``: a folder that
    is new, empty or medaug's, outside what the audit read
    (:func:`~medaug.output.claim_output`)."""
    out = Path(out).expanduser().absolute()
    with claim_output(out, command="audit", inputs=input_paths(**report.source)):
        return _write_audit(report, out)


def _write_audit(report: AuditReport, out: Path) -> AuditFiles:
    folders = class_folder_names(report.classes)
    pngs: dict[str, Path] = {}
    for name, audit_result in report.classes.items():
        path = out / f"closest_pairs_{folders[name]}.png"
        write_closest_pairs(path, audit_result.closest_pairs, name)
        pngs[name] = path
    extractor_path = None
    if report.prepared is not None and report.prepared.extractor.trainable:
        extractor_path = out / EXTRACTOR_NAME
        report.prepared.save(extractor_path)
    data = report.to_json()
    data["files"] = {
        "markdown": MARKDOWN_NAME,
        "closest_pairs": {name: p.name for name, p in pngs.items()},
        "extractor": extractor_path.name if extractor_path else None,
    }
    json_path = out / JSON_NAME
    atomic_write_json(json_path, data)
    md_path = out / MARKDOWN_NAME
    atomic_write_text(
        md_path, report_markdown(report, pngs={n: p.name for n, p in pngs.items()}, heading="#")
    )
    return AuditFiles(
        json=json_path, markdown=md_path, closest_pairs=pngs, extractor=extractor_path
    )


__all__ = [
    "AuditFiles",
    "ClassImages",
    "audit",
    "audit_classes",
    "audit_output",
    "input_paths",
    "write_audit",
]
