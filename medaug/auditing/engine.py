"""The audit of one class on tensors: fidelity, diversity, the real-vs-real floor, copies.

:func:`audit_sets` is what every entry point ends in (``medaug audit`` on folders, on a
balance output, and ``balance``/``experiment`` themselves).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import torch

from medaug.auditing.extractors import PreparedExtractor, prepare_extractor
from medaug.auditing.memorization import MemorizationScreen
from medaug.auditing.metrics import compare, split_halves
from medaug.auditing.results import ClassAudit, ClosestPair, judge
from medaug.auditing.settings import AuditSettings
from medaug.errors import MedaugError


def _check_images(what: str, images: torch.Tensor, minimum: int) -> None:
    if images.ndim != 4 or images.shape[-1] != images.shape[-2]:
        raise MedaugError(f"{what} images must be (N, C, H, W) squares, got {tuple(images.shape)}")
    if len(images) < minimum:
        raise MedaugError(f"the audit needs at least {minimum} {what} images, got {len(images)}")


def _check_ids(what: str, ids: Sequence[str] | None, n: int) -> tuple[str, ...]:
    if ids is None:
        return tuple(str(i) for i in range(n))
    if len(ids) != n:
        raise MedaugError(f"{len(ids)} {what} ids given for {n} {what} images")
    return tuple(str(i) for i in ids)


def to_uint8(image: torch.Tensor) -> np.ndarray:
    """A ``[-1, 1]`` image as ``uint8`` ``(C, H, W)``."""
    return ((image.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).numpy()


def audit_sets(
    real: torch.Tensor,
    synthetic: torch.Tensor,
    train: torch.Tensor | None = None,
    *,
    extractor: PreparedExtractor | None = None,
    settings: AuditSettings | None = None,
    name: str = "synthetic",
    real_groups: Sequence[str] | None = None,
    train_groups: Sequence[str] | None = None,
    real_ids: Sequence[str] | None = None,
    synthetic_ids: Sequence[str] | None = None,
    train_ids: Sequence[str] | None = None,
) -> ClassAudit:
    """Audit ``synthetic`` images of one class against ``real`` ones.

    Images are ``(N, C, H, W)`` float tensors in ``[-1, 1]`` of one size and channel
    count. ``train`` (default ``real``) is what the generator learned from: the copy
    screen compares against it. ``real_groups``/``train_groups`` are patient ids (the
    real/real halves, C2ST folds and the copy threshold keep patients apart).
    ``extractor`` defaults to the ``domain`` extractor trained (or restored from the
    cache) on ``real``. Ids name images in the JSON (default: their index; the
    training ids default to ``real_ids`` when ``train`` is ``real``).
    """
    settings = settings or AuditSettings()
    _check_images("real", real, settings.min_real)
    _check_images("synthetic", synthetic, settings.min_synthetic)
    if train is None:
        train = real
        train_groups = real_groups if train_groups is None else train_groups
        train_ids = real_ids if train_ids is None else train_ids
    _check_images("training", train, 2)
    shapes = {tuple(t.shape[1:]) for t in (real, synthetic, train)}
    if len(shapes) != 1:
        raise MedaugError(
            f"real, synthetic and training images differ in size or channels: {sorted(shapes)}"
        )
    if real_groups is not None and len(real_groups) != len(real):
        raise MedaugError(f"{len(real_groups)} patient ids given for {len(real)} real images")
    sids = _check_ids("synthetic", synthetic_ids, len(synthetic))
    tids = _check_ids("training", train_ids, len(train))
    seconds: dict[str, float] = {}

    start = time.perf_counter()
    prepared = extractor or prepare_extractor(real=real, seed=settings.seed)
    seconds["extractor"] = time.perf_counter() - start

    start = time.perf_counter()
    f_real = prepared.features(real, batch_size=settings.batch_size)
    f_syn = prepared.features(synthetic, batch_size=settings.batch_size)
    f_train = f_real if train is real else prepared.features(train, batch_size=settings.batch_size)
    seconds["features"] = time.perf_counter() - start

    start = time.perf_counter()
    metrics = compare(
        f_real, f_syn, settings=settings, seed=settings.seed, reference_groups=real_groups
    )
    half_a, half_b = split_halves(len(real), seed=settings.seed, groups=real_groups)
    groups_a = [real_groups[i] for i in half_a] if real_groups is not None else None
    baseline = compare(
        f_real[torch.from_numpy(half_a)],
        f_real[torch.from_numpy(half_b)],
        settings=settings,
        seed=settings.seed,
        reference_groups=groups_a,
    )
    seconds["metrics"] = time.perf_counter() - start

    start = time.perf_counter()
    screen = MemorizationScreen(
        train, settings=settings.memorization, train_features=f_train, groups=train_groups
    )
    memorization = screen.screen(synthetic, f_syn)
    seconds["memorization"] = time.perf_counter() - start

    pairs = tuple(
        ClosestPair(
            synthetic_id=sids[m.synthetic],
            train_id=tids[m.train],
            similarity=m.similarity,
            flagged=m.flagged,
            synthetic=to_uint8(synthetic[m.synthetic]),
            train=to_uint8(train[m.train]),
        )
        for m in memorization.closest(settings.closest_pairs)
    )
    return ClassAudit(
        name=name,
        n_real=len(real),
        n_synthetic=len(synthetic),
        n_train=len(train),
        metrics=metrics,
        baseline=baseline,
        memorization=memorization,
        verdict=judge(metrics, baseline, memorization, len(synthetic)),
        synthetic_ids=sids,
        train_ids=tids,
        closest_pairs=pairs,
        seconds=seconds,
    )


__all__ = ["audit_sets", "to_uint8"]
