"""``audit_classes``: the one audit path under ``medaug audit``, ``balance`` and the
experiment's ``gan`` arm."""

from __future__ import annotations

import torch

from medaug.auditing import AuditSettings, ClassImages, PreparedExtractor, audit_classes, audit_sets

from .conftest import Images


def test_each_class_is_audited_as_audit_sets_would(
    sample: dict[str, Images], domain: PreparedExtractor
) -> None:
    settings = AuditSettings()
    normal, pneumonia = sample["NORMAL"], sample["PNEUMONIA"]
    noisy = (normal.x + 0.2 * torch.randn_like(normal.x)).clamp(-1, 1)
    classes = [
        ClassImages("NORMAL", normal.set(), noisy),
        ClassImages("PNEUMONIA", pneumonia.set(), pneumonia.x.flip(-1)),
    ]
    report = audit_classes(classes, domain, settings)
    assert list(report.classes) == ["NORMAL", "PNEUMONIA"]
    assert (report.image_size, report.channels) == (normal.x.shape[-1], normal.x.shape[1])
    assert report.extractor == domain.name and report.prepared is domain
    alone = audit_sets(normal.set(), noisy, extractor=domain, settings=settings, name="NORMAL")
    timeless = [
        {k: v for k, v in r.to_json().items() if k != "seconds"}
        for r in (report.classes["NORMAL"], alone)
    ]
    assert timeless[0] == timeless[1]
