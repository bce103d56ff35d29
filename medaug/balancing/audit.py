"""The audit at the end of a ``balance`` run: every grown class audited as ``medaug
audit OUT`` would, into ``report/audit/``; with ``--reject-memorized`` the flagged
near-copies are first replaced by fresh samples that pass the same screen."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import torch

from medaug.balancing.config import BalanceConfig
from medaug.balancing.session import Session
from medaug.balancing.summary import BalanceAudit
from medaug.curation import Curator
from medaug.data.options import DataOptions
from medaug.errors import MedaugError
from medaug.generation.progress import Reporter
from medaug.generation.sampling import replace_images
from medaug.output.layout import OutputLayout


def audit_run(
    cfg: BalanceConfig, layout: OutputLayout, run: Session, reporter: Reporter
) -> BalanceAudit:
    """Audit every grown class (``medaug audit OUT``) into ``report/audit/``; with
    ``reject_memorized``, first replace the flagged near-copies with fresh samples and
    audit again. An audit that cannot run (too few images...) is skipped with a reason;
    classes too small to audit are named in ``not_audited``."""
    from medaug.auditing import (
        AuditConfig,
        AuditSettings,
        ExtractorSpec,
        audit_output,
        report_markdown,
        write_audit,
    )

    settings, counts = AuditSettings(), run.ds.counts()
    small = {
        c: f"{counts[c]} real and {n} synthetic images"
        for c, n in sorted(run.to_add.items())
        if counts[c] < settings.min_real or n < settings.min_synthetic
    }
    classes = sorted(c for c in run.to_add if c not in small)
    if not classes:  # checked before the extractor is trained, which takes a while
        listing = "; ".join(f"{c}: {v}" for c, v in small.items())
        return _skipped(
            reporter,
            f"the audit needs at least {settings.min_real} real and "
            f"{settings.min_synthetic} synthetic images of a class ({listing})",
        )
    config = AuditConfig(
        options=DataOptions(cache_dir=cfg.options.cache_dir, workers=cfg.options.workers),
        extractor=ExtractorSpec(cfg.audit_extractor, cfg.audit_weights, cfg.audit_options),
        device=run.device,
    )
    reporter.message("auditing the synthetic images (medaug audit)")

    def audit() -> Any:
        return audit_output(layout.root, config=config, classes=classes)

    try:
        report = audit()
        replaced: dict[str, int] = {}
        if cfg.reject_memorized:
            replaced = _reject_memorized(run, report, reporter)
            if any(replaced.values()):
                report = audit()
    except MedaugError as exc:
        return _skipped(reporter, str(exc))
    files = write_audit(report, layout.report_dir / "audit")
    pngs = {c: f"audit/{p.name}" for c, p in files.closest_pairs.items()}
    summary = {**_audit_figures(report), "report": str(files.markdown)}
    if small:
        summary["not_audited"] = small
    if cfg.reject_memorized:
        summary["replaced"] = replaced
    return BalanceAudit(summary, report_markdown(report, pngs=pngs, heading="##"))


def _skipped(reporter: Reporter, reason: str) -> BalanceAudit:
    reporter.message(f"audit skipped: {reason}")
    return BalanceAudit({"skipped": reason}, f"## Audit\n\naudit skipped: {reason}\n")


def _reject_memorized(run: Session, report: Any, reporter: Reporter) -> dict[str, int]:
    """Replace each flagged near-copy with the next fresh sample of its generator that
    the same memorization screen accepts (deterministic: the same flags give the same
    replacements). Returns the number replaced per class."""
    from medaug.auditing import MemorizationScreen

    replaced: dict[str, int] = {}
    for cls, audit in report.classes.items():
        flagged = [Path(audit.synthetic_ids[i]).name for i in audit.flagged_indices]
        if not flagged:
            continue
        indices = [int(name.rsplit("_", 1)[1].split(".")[0]) for name in flagged]
        rows = run.ds.class_indices(cls)
        screen = MemorizationScreen(
            run.ds.to_tensor(rows),
            settings=report.settings.memorization,
            groups=[str(p) for p in run.ds.patients[rows]],
        )
        done = replace_images(
            run.fitted[cls].generator,
            run.jobs[cls],
            indices,
            partial(_rejected, screen, run.curator, run.ds.classes.index(cls)),
        )
        replaced[cls] = len(done)
        reporter.message(f"{cls}: replaced {len(done)} of {len(indices)} near-copies")
    return replaced


def _rejected(
    screen: Any, curator: Curator | None, class_index: int, images: torch.Tensor
) -> list[bool]:
    """Which of ``images`` the memorization screen flags as near-copies or, in a curated
    run, the filter rejects (a replacement must pass both)."""
    flags = [m.flagged for m in screen.screen(images).nearest]
    if curator is None:
        return flags
    accepted = curator.accepts(class_index, images.float().cpu()).tolist()
    return [f or not a for f, a in zip(flags, accepted, strict=True)]


def _audit_figures(report: Any) -> dict[str, Any]:
    """The audit's figures per class, for the ``--json`` summary."""
    data = report.to_json()
    return {"extractor": data["extractor"], "classes": data["classes"]}


__all__ = ["audit_run"]
