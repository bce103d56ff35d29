"""The copy screen catches the near-copies a generator really makes and spares distinct
patients (real ChestXray2017 sample images at 32 px)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from medaug.auditing import (
    AuditSettings,
    ImageSet,
    MemorizationScreen,
    MemorizationSettings,
    PreparedExtractor,
    audit_sets,
    flag_memorized,
    write_closest_pairs,
)
from medaug.errors import MedaugError

from .audit_helpers import brighten, jpeg, noise, shift
from .conftest import Images

FAST = AuditSettings(subsets=2, kid_subsets=2, folds=2)

PLANTED = {
    "noise": lambda x: noise(x, 0.05),
    "brightness": lambda x: brighten(x, 1.1, 0.1),
    "shift": lambda x: shift(x, 2, -1),
    "jpeg": lambda x: jpeg(x, 75),
    "all four": lambda x: jpeg(shift(brighten(noise(x, 0.03), 1.05, 0.05), 1, 1), 85),
}


@pytest.fixture(scope="module")
def split(normal: Images) -> tuple[Images, Images]:
    """Training images and held-out images of other patients."""
    patients = sorted(set(normal.groups))
    held_out = set(patients[::4])
    rows_train = [i for i, g in enumerate(normal.groups) if g not in held_out]
    rows_held = [i for i, g in enumerate(normal.groups) if g in held_out]

    def pick(rows: list[int]) -> Images:
        return Images(
            normal.x[rows], [normal.groups[i] for i in rows], [normal.names[i] for i in rows]
        )

    return pick(rows_train), pick(rows_held)


@pytest.fixture(scope="module")
def screen(split: tuple[Images, Images], domain: PreparedExtractor) -> MemorizationScreen:
    train, _ = split
    return MemorizationScreen(train.x, train_features=domain.features(train.x), groups=train.groups)


@pytest.mark.parametrize("kind", sorted(PLANTED))
def test_planted_near_copies_are_flagged(
    kind: str,
    split: tuple[Images, Images],
    screen: MemorizationScreen,
    domain: PreparedExtractor,
) -> None:
    train, _ = split
    sources = [0, 7, 19, 33]
    copies = PLANTED[kind](train.x[sources])
    result = screen.screen(copies, domain.features(copies))
    assert result.flagged_indices == [0, 1, 2, 3], [m.similarity for m in result.nearest]
    assert [result.nearest[i].train for i in range(4)] == sources
    assert all("pixel" in m.flagged_by for m in result.nearest)


def test_distinct_patients_are_not_flagged(
    split: tuple[Images, Images], screen: MemorizationScreen, domain: PreparedExtractor
) -> None:
    _, held_out = split
    result = screen.screen(held_out.x, domain.features(held_out.x))
    assert result.flagged_indices == []
    assert max(m.similarity for m in result.nearest) < result.threshold
    # the threshold sits above what distinct real patients reach
    assert result.threshold > result.real_nearest["max"]


def test_threshold_follows_the_documented_rule(screen: MemorizationScreen) -> None:
    q = float(np.quantile(screen.real_pixel, 0.99))
    assert screen.threshold == pytest.approx(1 - 0.5 * (1 - q))
    stricter = MemorizationSettings(quantile=0.5, margin=1.0)
    assert stricter.threshold(q) == pytest.approx(q)


def test_audit_reports_flags_with_ids(
    split: tuple[Images, Images], domain: PreparedExtractor
) -> None:
    train, held_out = split
    synthetic = torch.cat([held_out.x[:20], noise(train.x[[3, 11]], 0.04)])
    ids = [f"syn_{i}.png" for i in range(len(synthetic))]
    result = audit_sets(
        train.set(), ImageSet(synthetic, ids=tuple(ids)), extractor=domain, settings=FAST
    )
    assert result.flagged_indices == [20, 21]
    flagged = result.to_json()["memorization"]["flagged"]
    assert {(f["synthetic"], f["train"]) for f in flagged} == {
        ("syn_20.png", train.names[3]),
        ("syn_21.png", train.names[11]),
    }
    assert all(set(f) >= {"synthetic", "train", "similarity"} for f in flagged)
    assert result.closest_pairs[0].flagged


def test_flag_memorized_needs_no_extractor(split: tuple[Images, Images]) -> None:
    train, held_out = split
    synthetic = torch.cat([held_out.x[:10], jpeg(train.x[[5]], 70)])
    assert flag_memorized(synthetic, train.x, train_groups=train.groups) == [10]


def test_one_patient_only_is_a_clear_error(normal: Images) -> None:
    with pytest.raises(MedaugError, match="2 patients"):
        MemorizationScreen(normal.x[:5], groups=["same"] * 5)


def test_closest_pairs_png(
    tmp_path: Path, split: tuple[Images, Images], domain: PreparedExtractor
) -> None:
    train, held_out = split
    synthetic = torch.cat([held_out.x[:12], train.x[[1]]])
    result = audit_sets(train.set(), synthetic, extractor=domain, settings=FAST)
    path = tmp_path / "pairs.png"
    write_closest_pairs(path, result.closest_pairs, "NORMAL")
    with Image.open(path) as img:
        assert img.format == "PNG"
        assert img.height > img.width  # one row per pair
    assert len(result.closest_pairs) == 8
    assert result.closest_pairs[0].similarity >= result.closest_pairs[-1].similarity
