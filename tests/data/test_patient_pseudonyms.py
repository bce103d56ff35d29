"""Patient ids are pseudonymised before anything is cached; splits are unchanged
(issue 12.15)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from medaug_dicom.reader import DicomReader
from medaug_folder.reader import FolderReader

from medaug.data import DataOptions, load_dataset, patient_split, scan_dataset, split_groups
from medaug.data.cache import cache_root
from medaug.data.patients import pseudonym
from tests.hardening.corpus import texture
from tests.helpers import write_dicom, write_image_folder

PATIENT_IDS = ("MRN-0042", "MRN-0043", "MRN-0044", "MRN-0045", "MRN-0046", "MRN-0047")


def _dicoms(root: Path) -> Path:
    """16 DICOM files of 6 patients (some with several images) in two classes."""
    rng = np.random.default_rng(3)
    for i in range(16):
        pid = PATIENT_IDS[int(rng.integers(0, len(PATIENT_IDS)))]
        cls = "sick" if pid in PATIENT_IDS[:2] or i % 5 == 0 else "well"
        write_dicom(root / cls / f"img{i:02d}.dcm", texture(16, i), patient_id=pid)
    return root


def _cache_bytes(cache: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(cache.rglob("*")) if p.is_file())


def test_no_patient_id_reaches_the_cache(tmp_path: Path) -> None:
    root = _dicoms(tmp_path / "data")
    cache = tmp_path / "cache"
    cold = load_dataset(
        root, image_size=16, progress=False, options=DataOptions(workers=1, cache_dir=cache)
    )
    warm = load_dataset(
        root, image_size=16, progress=False, options=DataOptions(workers=1, cache_dir=cache)
    )
    stored = _cache_bytes(cache)
    assert stored and not any(pid.encode() in stored for pid in PATIENT_IDS)
    assert b"MRN" not in stored
    expected = {pseudonym(pid) for pid in PATIENT_IDS}
    assert set(cold.patients) <= expected and len(set(cold.patients)) > 3
    assert list(cold.patients) == list(warm.patients)


def test_splits_are_the_same_as_with_the_plain_ids(tmp_path: Path) -> None:
    """The split compares ids only for equality and keeps their first-seen order: with
    pseudonyms it gives exactly the rows the plain ids give."""
    root = _dicoms(tmp_path / "dicom")
    plain = DicomReader().scan(root)  # the reader's own ids, as before this change
    for seed in (0, 1, 2):
        for frac in (0.2, 0.4):
            before = split_groups(
                [r.label for r in plain.records],
                [r.patient_id for r in plain.records],
                val_fraction=frac,
                seed=seed,
            )
            scan = scan_dataset(root, options=DataOptions(reader="dicom"))
            after = patient_split(scan, val_fraction=frac, seed=seed)
            assert [r.path for r in scan.records] == [r.path for r in plain.records]
            assert all(np.array_equal(b, a) for b, a in zip(before, after, strict=True))
            assert len(after[0]) and len(after[1])  # a real split, both sides filled
    images = write_image_folder(tmp_path / "images", {"NORMAL": 9, "PNEUMONIA": 14})
    plain_images = FolderReader().scan(images)
    ds = load_dataset(images, image_size=16, progress=False, options=DataOptions(workers=1))
    before = split_groups(
        [r.label for r in plain_images.records], [r.patient_id for r in plain_images.records]
    )
    after = patient_split(ds)
    assert all(np.array_equal(b, a) for b, a in zip(before, after, strict=True))


def test_plain_text_scans_of_older_versions_are_deleted(tmp_path: Path) -> None:
    root = _dicoms(tmp_path / "data")
    old = cache_root() / "scans-v1"
    old.mkdir(parents=True)
    (old / "key.json").write_text(json.dumps({"records": [["a.dcm", "x", "MRN-0042"]]}))
    scan_dataset(root)
    assert not old.exists()
    assert b"MRN" not in _cache_bytes(cache_root())


def test_pseudonyms_are_stable_and_distinct() -> None:
    assert pseudonym("MRN-0042") == pseudonym("MRN-0042") == "pid-" + pseudonym("MRN-0042")[4:]
    assert pseudonym("MRN-0042") != pseudonym("MRN-0043")
    assert len(pseudonym("x")) == 24 and "MRN" not in pseudonym("MRN-0042")
