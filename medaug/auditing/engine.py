"""The audit of one class on tensors: fidelity, diversity, the real-vs-real floor, copies.

:func:`audit_sets` is what every entry point ends in (``medaug audit`` on folders, on a
balance output, and ``balance``/``experiment`` themselves).
"""

from __future__ import annotations

import time

import numpy as np
import torch

from medaug.auditing.extractors import PreparedExtractor, prepare_extractor
from medaug.auditing.images import ImageSet
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


def to_uint8(image: torch.Tensor) -> np.ndarray:
    """A ``[-1, 1]`` image as ``uint8`` ``(C, H, W)``."""
    return ((image.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).numpy()


def audit_sets(
    real: ImageSet | torch.Tensor,
    synthetic: ImageSet | torch.Tensor,
    train: ImageSet | torch.Tensor | None = None,
    *,
    extractor: PreparedExtractor | None = None,
    settings: AuditSettings | None = None,
    name: str = "synthetic",
) -> ClassAudit:
    """Audit ``synthetic`` images of one class against ``real`` ones.

    Each set is an :class:`~medaug.auditing.images.ImageSet` (images with ids and patient
    ids) or a bare ``(N, C, H, W)`` float tensor in ``[-1, 1]``; all share one size and
    channel count. ``train`` (default ``real``) is what the generator learned from: the
    copy screen compares against it. ``extractor`` defaults to the ``domain`` extractor
    trained (or restored from the cache) on ``real``.
    """
    settings = settings or AuditSettings()
    real_set, syn_set = ImageSet.of(real), ImageSet.of(synthetic)
    train_set = real_set if train is None else ImageSet.of(train)
    _check_images("real", real_set.images, settings.min_real)
    _check_images("synthetic", syn_set.images, settings.min_synthetic)
    _check_images("training", train_set.images, 2)
    shapes = {tuple(s.images.shape[1:]) for s in (real_set, syn_set, train_set)}
    if len(shapes) != 1:
        raise MedaugError(
            f"real, synthetic and training images differ in size or channels: {sorted(shapes)}"
        )
    seconds: dict[str, float] = {}

    start = time.perf_counter()
    prepared = extractor or prepare_extractor(real=real_set.images, seed=settings.seed)
    seconds["extractor"] = time.perf_counter() - start

    start = time.perf_counter()
    f_real = prepared.features(real_set.images, batch_size=settings.batch_size)
    f_syn = prepared.features(syn_set.images, batch_size=settings.batch_size)
    f_train = (
        f_real
        if train_set is real_set
        else prepared.features(train_set.images, batch_size=settings.batch_size)
    )
    seconds["features"] = time.perf_counter() - start

    start = time.perf_counter()
    metrics = compare(
        f_real, f_syn, settings=settings, seed=settings.seed, reference_groups=real_set.patients()
    )
    half_a, half_b = split_halves(len(real_set), seed=settings.seed, groups=real_set.patients())
    baseline = compare(
        f_real[torch.from_numpy(half_a)],
        f_real[torch.from_numpy(half_b)],
        settings=settings,
        seed=settings.seed,
        reference_groups=real_set.patients(half_a.tolist()),
    )
    seconds["metrics"] = time.perf_counter() - start

    start = time.perf_counter()
    screen = MemorizationScreen(
        train_set.images,
        settings=settings.memorization,
        train_features=f_train,
        groups=train_set.patients(),
    )
    memorization = screen.screen(syn_set.images, f_syn)
    seconds["memorization"] = time.perf_counter() - start

    sids, tids = syn_set.names(), train_set.names()
    pairs = tuple(
        ClosestPair(
            synthetic_id=sids[m.synthetic],
            train_id=tids[m.train],
            similarity=m.similarity,
            flagged=m.flagged,
            synthetic=to_uint8(syn_set.images[m.synthetic]),
            train=to_uint8(train_set.images[m.train]),
        )
        for m in memorization.closest(settings.closest_pairs)
    )
    return ClassAudit(
        name=name,
        n_real=len(real_set),
        n_synthetic=len(syn_set),
        n_train=len(train_set),
        metrics=metrics,
        baseline=baseline,
        memorization=memorization,
        verdict=judge(metrics, baseline, memorization, len(syn_set)),
        synthetic_ids=sids,
        train_ids=tids,
        closest_pairs=pairs,
        seconds=seconds,
    )


__all__ = ["audit_sets", "to_uint8"]
