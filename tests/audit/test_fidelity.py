"""FID, KID, precision/recall, density/coverage and C2ST behave as their definitions say."""

from __future__ import annotations

import math

import pytest
import torch
from torchmetrics.image.fid import FrechetInceptionDistance

from medaug.auditing import AuditSettings, PreparedExtractor, audit_sets
from medaug.auditing.distances import frechet_distance
from medaug.auditing.metrics import split_halves
from medaug.auditing.prdc import NeighbourBalls, precision_recall_density_coverage

from .audit_helpers import noise
from .conftest import Images

FAST = AuditSettings(subsets=3, kid_subsets=5, folds=3)


def test_identical_sets_give_fid_zero_and_full_precision_recall(
    normal: Images, domain: PreparedExtractor
) -> None:
    result = audit_sets(normal.set(), normal.x, extractor=domain, settings=FAST)
    m = result.metrics
    assert m.fid == pytest.approx(0.0, abs=1e-3)
    assert m.precision == m.recall == m.coverage == 1.0
    assert m.density == pytest.approx(1.0, abs=0.25)
    assert m.c2st_auc <= 0.6
    assert result.baseline.fid > 1.0  # two halves of real patients are not identical


def test_disjoint_distributions_give_large_fid_and_auc_one(
    normal: Images, domain: PreparedExtractor
) -> None:
    g = torch.Generator().manual_seed(0)
    fake = torch.rand((40, *normal.x.shape[1:]), generator=g) * 2 - 1  # uniform noise
    result = audit_sets(normal.set(), fake, extractor=domain, settings=FAST)
    m, b = result.metrics, result.baseline
    assert m.fid > 20 * b.fid
    assert m.kid > 20 * max(b.kid, 1e-3)
    assert m.c2st_auc > 0.95
    assert m.precision < 0.1 and m.coverage < 0.1
    assert result.verdict.realism == "poor"
    assert result.verdict.diversity == "poor"


def test_fid_agrees_with_torchmetrics_on_the_same_features(
    sample: dict[str, Images], domain: PreparedExtractor
) -> None:
    real, other = sample["NORMAL"].x, sample["PNEUMONIA"].x[:60]
    ours = audit_sets(real, other, extractor=domain, settings=FAST).metrics.fid
    reference = FrechetInceptionDistance(feature=domain.extractor.module())
    reference.update(real, real=True)
    reference.update(other, real=False)
    assert ours == pytest.approx(float(reference.compute()), rel=1e-5)
    assert ours > 0


def test_uncertainties_are_reported_and_finite(normal: Images, domain: PreparedExtractor) -> None:
    result = audit_sets(normal.set(), noise(normal.x[:40], 0.2), extractor=domain, settings=FAST)
    for metrics in (result.metrics, result.baseline):
        stds = [metrics.fid_std, metrics.kid_std, metrics.precision_std, metrics.c2st_auc_std]
        assert all(math.isfinite(s) and s >= 0 for s in stds)
    assert result.metrics.fid_std > 0


def test_prdc_of_far_apart_sets_is_zero_and_of_equal_sets_one() -> None:
    g = torch.Generator().manual_seed(0)
    real = torch.randn(50, 4, generator=g, dtype=torch.float64)
    far = precision_recall_density_coverage(real, real + 100.0, k=5)
    assert far == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}
    same = precision_recall_density_coverage(real, real.clone(), k=5)
    assert same["precision"] == same["recall"] == same["coverage"] == 1.0


def test_prdc_on_subsets_equals_prdc_of_the_subsets() -> None:
    g = torch.Generator().manual_seed(1)
    real = torch.randn(40, 3, generator=g, dtype=torch.float64)
    fake = torch.randn(30, 3, generator=g, dtype=torch.float64) * 1.5 + 0.3
    a, b = torch.arange(0, 40, 2), torch.arange(1, 30, 2)
    assert NeighbourBalls(real, fake).figures(5, a, b) == precision_recall_density_coverage(
        real[a], fake[b], k=5
    )


def test_precision_drops_when_samples_leave_the_real_support() -> None:
    g = torch.Generator().manual_seed(2)
    real = torch.randn(200, 2, generator=g, dtype=torch.float64)
    inside = torch.randn(200, 2, generator=g, dtype=torch.float64)
    collapsed = (
        torch.zeros(200, 2, dtype=torch.float64) + torch.randn(200, 2, generator=g).double() * 0.01
    )
    good = precision_recall_density_coverage(real, inside, k=5)
    mode_collapse = precision_recall_density_coverage(real, collapsed, k=5)
    assert good["recall"] > 0.8 and good["coverage"] > 0.8
    assert mode_collapse["precision"] > 0.9  # realistic...
    assert mode_collapse["recall"] < 0.2 and mode_collapse["coverage"] < 0.2  # ...not diverse


def test_frechet_distance_grows_with_a_mean_shift() -> None:
    g = torch.Generator().manual_seed(3)
    real = torch.randn(300, 8, generator=g, dtype=torch.float64)
    values = [
        frechet_distance(real, torch.randn(300, 8, generator=g).double() + s) for s in (0, 1, 2)
    ]
    assert values[0] < values[1] < values[2]
    assert values[2] == pytest.approx(8 * 4, rel=0.25)  # ||mu||^2 = 8 * 2^2


def test_real_halves_are_patient_disjoint_and_cover_everything() -> None:
    groups = [f"p{i // 3}" for i in range(30)]
    a, b = split_halves(30, seed=0, groups=groups)
    assert sorted([*a, *b]) == list(range(30))
    assert not {groups[i] for i in a} & {groups[i] for i in b}
    assert abs(len(a) - len(b)) <= 3


def test_too_few_images_is_a_clear_error(normal: Images, domain: PreparedExtractor) -> None:
    from medaug.errors import MedaugError

    with pytest.raises(MedaugError, match="at least 12 synthetic"):
        audit_sets(normal.x, normal.x[:5], extractor=domain)
    with pytest.raises(MedaugError, match="at least 24 real"):
        audit_sets(normal.x[:10], normal.x, extractor=domain)
