"""Patient-grouped, class-stratified splits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from medaug.data import DataOptions, load_dataset, patient_split, split_groups
from medaug.errors import MedaugError


def _check(
    labels: list[str], groups: list[str], frac: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    train, val = split_groups(labels, groups, val_fraction=frac, seed=seed)
    assert sorted([*train.tolist(), *val.tolist()]) == list(range(len(labels)))
    assert not {groups[i] for i in train} & {groups[i] for i in val}
    return train, val


def test_grouped_stratified_seeded() -> None:
    rng = np.random.default_rng(1)
    labels, groups = [], []
    for p in range(120):
        cls = "rare" if p < 20 else "common"
        for _ in range(int(rng.integers(1, 5))):
            labels.append(cls)
            groups.append(f"{cls}{p}")
    train, val = _check(labels, groups, 0.2, 0)
    for cls in ("rare", "common"):
        n = labels.count(cls)
        n_val = sum(labels[i] == cls for i in val)
        assert 0 < n_val < n and abs(n_val / n - 0.2) < 0.08
    again = _check(labels, groups, 0.2, 0)
    assert np.array_equal(train, again[0]) and np.array_equal(val, again[1])
    other = _check(labels, groups, 0.2, 1)
    assert not np.array_equal(val, other[1])


def test_small_classes_keep_both_sides() -> None:
    labels = ["a", "a", "b", "b", "b", "c"]
    groups = ["p1", "p2", "p3", "p4", "p4", "p5"]
    train, val = _check(labels, groups, 0.2, 0)
    assert {labels[i] for i in val} == {"a", "b"}  # c has one patient: train only
    assert {labels[i] for i in train} == {"a", "b", "c"}


def test_bad_fraction() -> None:
    with pytest.raises(MedaugError):
        split_groups(["a"], ["p"], val_fraction=1.0)


def test_patient_split_on_dataset(image_folder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = image_folder({"NORMAL": 8, "PNEUMONIA": 20}, size=16)
    ds = load_dataset(root, image_size=16, progress=False, options=DataOptions(workers=1))
    train, val = patient_split(ds, val_fraction=0.25, seed=0)
    pids = ds.patients
    assert not set(pids[train]) & set(pids[val])
    assert set(ds.targets[val]) == {0, 1} and len(train) + len(val) == len(ds)
    sub = ds.subset(val)
    assert sub.classes == ds.classes and len(sub) == len(val)
    assert np.array_equal(sub.images, ds.images[val])
    t = ds.to_tensor(val)
    assert t.dtype.is_floating_point and t.shape == (len(val), 1, 16, 16)
    assert float(t.min()) >= -1.0 and float(t.max()) <= 1.0
    assert ds.class_indices("NORMAL").tolist() == list(range(8))


def test_chestxray_patients_never_straddle(chestxray_train: Path) -> None:
    from medaug.data import patient_from_name, scan_dataset
    from medaug.data.patients import pseudonym

    scan = scan_dataset(chestxray_train)
    assert scan.counts() == {"NORMAL": 1349, "PNEUMONIA": 3883}
    pids = {r.patient_id for r in scan.records}
    names = {patient_from_name(r.path) for r in scan.records}
    assert all(n.startswith(("person", "IM-", "NORMAL2-IM-")) for n in names)
    assert pids == {pseudonym(n) for n in names}
    assert len(pids) < len(scan.records)
    train, val = patient_split(scan, val_fraction=0.2, seed=0)
    recs = scan.records
    assert not {recs[i].patient_id for i in train} & {recs[i].patient_id for i in val}
    for cls in ("NORMAL", "PNEUMONIA"):
        n = sum(r.label == cls for r in recs)
        assert abs(sum(recs[i].label == cls for i in val) / n - 0.2) < 0.02
