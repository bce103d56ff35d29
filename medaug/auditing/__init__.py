"""The audit of synthetic images: realistic? diverse? copies of training patients?

Per class, against the real images and always also real-vs-real (two patient-disjoint
halves, the floor that gives every figure a scale): FID and KID (torchmetrics, on the
features of a plugin extractor), improved precision/recall and density/coverage (k = 5),
a classifier two-sample test (cross-validated ROC-AUC), each with an uncertainty; and a
memorization screen in pixel and feature space. See ``docs/audit.md``.

Library use::

    from medaug.auditing import AuditConfig, audit, audit_output, audit_sets, write_audit

    report = audit("real/NORMAL", "synthetic/NORMAL")        # folders, one class each
    report = audit_output("balanced/")                       # a balance output
    report = audit(real_dir, syn_dir, config=AuditConfig(image_size=128, device="cuda"))
    write_audit(report, "balanced/report/audit")             # json, md, PNGs, extractor
    report.to_json()["classes"]["NORMAL"]["fid"]

    result = audit_sets(real, synthetic, train)              # tensors in [-1, 1]
    result = audit_sets(ImageSet(real, ids=paths, groups=patients), synthetic)
    result.flagged_indices                                   # near-copies to replace

    flag_memorized(synthetic, train)                         # just the copy screen
"""

from __future__ import annotations

from medaug.auditing.engine import audit_sets
from medaug.auditing.extractors import (
    DEFAULT_EXTRACTOR,
    ExtractorSpec,
    PreparedExtractor,
    build_extractor,
    prepare_extractor,
)
from medaug.auditing.images import ImageSet
from medaug.auditing.memorization import (
    MemorizationResult,
    MemorizationScreen,
    NearestMatch,
    flag_memorized,
)
from medaug.auditing.metrics import MetricSet
from medaug.auditing.report import class_markdown, report_markdown, write_closest_pairs
from medaug.auditing.results import AuditReport, ClassAudit, ClosestPair, Verdict
from medaug.auditing.run import (
    AuditFiles,
    ClassImages,
    audit,
    audit_classes,
    audit_output,
    write_audit,
)
from medaug.auditing.settings import AuditConfig, AuditSettings, MemorizationSettings

__all__ = [
    "DEFAULT_EXTRACTOR",
    "AuditConfig",
    "AuditFiles",
    "AuditReport",
    "AuditSettings",
    "ClassAudit",
    "ClassImages",
    "ClosestPair",
    "ExtractorSpec",
    "ImageSet",
    "MemorizationResult",
    "MemorizationScreen",
    "MemorizationSettings",
    "MetricSet",
    "NearestMatch",
    "PreparedExtractor",
    "Verdict",
    "audit",
    "audit_classes",
    "audit_output",
    "audit_sets",
    "build_extractor",
    "class_markdown",
    "flag_memorized",
    "prepare_extractor",
    "report_markdown",
    "write_audit",
    "write_closest_pairs",
]
