"""Curation in a ``balance`` run (``--filter``): which of a grown class's sampled images
are kept, decided once per class and recorded in the run state (a resumed run keeps the
same images)."""

from __future__ import annotations

from typing import Any

import torch

from medaug.balancing.config import BalanceConfig
from medaug.balancing.session import Session
from medaug.curation import Curation, Curator
from medaug.generation.fitting import TrainResult
from medaug.generation.progress import Reporter


def curator(cfg: BalanceConfig, run: Session) -> Curator:
    """The run's curator, built once: the audit's extractor (the one ``--audit-extractor``
    names, fitted or restored from the cache as the audit does) on every real image."""
    if run.curator is None:
        from medaug.auditing import AuditSettings, ExtractorSpec, MemorizationSettings

        real = run.ds.to_tensor()
        extractor = ExtractorSpec(cfg.audit_extractor, cfg.audit_weights, cfg.audit_options)
        run.curator = Curator(
            cfg.curation,
            extractor.prepare(
                real, seed=AuditSettings().seed, device=run.device, cache_dir=cfg.options.cache_dir
            ),
            real,
            torch.as_tensor(run.ds.targets),
            groups=[str(p) for p in run.ds.patients],
            copies=MemorizationSettings() if cfg.reject_memorized else None,
        )
    return run.curator


def curate_class(
    cfg: BalanceConfig, run: Session, unit: tuple[str, TrainResult], reporter: Reporter
) -> Curation | None:
    """The curation of class ``unit[0]`` (``None`` without a filter): read back from the
    run state, or drawn from its fitted generator ``unit[1]`` and recorded there."""
    if not cfg.curation.active:
        return None
    cls, result = unit
    cls_state = run.state.class_state(cls)
    raw: Any = cls_state.get("curation")
    if raw is None:
        n = run.to_add[cls]
        reporter.message(
            f"{cls}: drawing up to {n * cfg.curation.draws_per_image} candidates for the "
            f"{cfg.curation.filter} filter"
        )
        found = curator(cfg, run).curate(
            result.generator, cls, run.ds.classes.index(cls), n, cfg.seed
        )
        cls_state["curation"] = found.to_json(stream=True)
    else:
        found = Curation.from_json(raw)
    reporter.message(found.sentence(cls))
    run.curations[cls] = found
    return found


def curation_summary(cfg: BalanceConfig, run: Session) -> dict[str, Any] | None:
    """The policy and each class's figures, for the summary (``None`` without a filter)."""
    if not cfg.curation.active:
        return None
    return {
        "policy": cfg.curation.to_json(),
        "reject_memorized": cfg.reject_memorized,
        "classes": {c: cur.to_json() for c, cur in sorted(run.curations.items())},
    }


__all__ = ["curate_class", "curation_summary", "curator"]
