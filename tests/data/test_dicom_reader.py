"""The DICOM reader: pixel pipeline, labels (folders, CSV, attribute), skips, real files."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from pydicom.data import get_testdata_file
from pydicom.uid import BasicTextSRStorage, RLELossless

from medaug.data import DataOptions, load_dataset, scan_dataset
from medaug.data.patients import pseudonym
from medaug.errors import MedaugError
from tests.helpers import DicomSpec, gradient, tree_hash, write_dicom


def _load(root: Path):  # type: ignore[no-untyped-def]
    return load_dataset(root, image_size=16, progress=False, options=DataOptions(workers=1))


def test_rescale_window_and_bits(tmp_path: Path) -> None:
    raw = gradient(32, 4095)
    # HU = raw - 1024; window 40/400 -> HU -160..240 -> raw 864..1264
    extra = {"RescaleSlope": 1, "RescaleIntercept": -1024, "WindowCenter": 40, "WindowWidth": 400}
    write_dicom(tmp_path / "a" / "w.dcm", raw, DicomSpec(bits_stored=12, extra=extra))
    write_dicom(tmp_path / "b" / "m.dcm", raw, DicomSpec(bits_stored=12), patient_id="P2")
    ds = _load(tmp_path)
    assert ds.reader == "folder" and ds.source_format == "dicom" and ds.bit_depth == 16
    windowed, minmax = ds.images[0, 0].astype(int), ds.images[1, 0].astype(int)
    assert windowed[:, 0].max() == 0 and windowed[:, -1].min() == 65535  # clipped both ends
    assert (windowed[0] == 0).sum() >= 3 and (windowed[0] == 65535).sum() >= 3
    assert minmax[0, 0] < 3000 and minmax[0, -1] > 62000 and np.all(np.diff(minmax[0]) >= 0)
    assert [r.patient_id for r in ds.records] == [pseudonym("P1"), pseudonym("P2")]


def test_bits_stored_masks_high_bits(tmp_path: Path) -> None:
    raw = gradient(32, 4095) | np.uint16(0xF000)  # garbage above BitsStored=12
    write_dicom(
        tmp_path / "a" / "x.dcm",
        raw,
        DicomSpec(bits_stored=12, extra={"WindowCenter": 2048, "WindowWidth": 4096}),
    )
    write_dicom(
        tmp_path / "b" / "y.dcm",
        gradient(32, 4095),
        DicomSpec(bits_stored=12, extra={"WindowCenter": 2048, "WindowWidth": 4096}),
    )
    ds = _load(tmp_path)
    assert np.abs(ds.images[0].astype(int) - ds.images[1].astype(int)).max() <= 1


def test_monochrome1_is_inverted(tmp_path: Path) -> None:
    raw = gradient(32, 255, np.uint8)
    write_dicom(tmp_path / "a" / "m1.dcm", raw, DicomSpec(photometric="MONOCHROME1"))
    write_dicom(tmp_path / "b" / "m2.dcm", raw)
    ds = _load(tmp_path)
    assert ds.bit_depth == 8
    assert np.abs(ds.images[0].astype(int) - (255 - ds.images[1].astype(int))).max() <= 1
    assert ds.images[0, 0, 0, 0] > 240 and ds.images[1, 0, 0, 0] < 15


def test_multiframe_one_image_per_frame_or_skip(tmp_path: Path) -> None:
    frames = np.stack([gradient(16, 255, np.uint8), 255 - gradient(16, 255, np.uint8)])
    write_dicom(tmp_path / "a" / "mf.dcm", frames)
    write_dicom(tmp_path / "b" / "one.dcm", frames[0])
    ds = load_dataset(
        tmp_path, image_size=16, progress=False, options=DataOptions(reader="dicom", workers=1)
    )
    assert [r.frame for r in ds.records] == [0, 1, 0]
    assert ds.images[0, 0, 0, 0] == 0 and ds.images[1, 0, 0, 0] == 255
    skip = scan_dataset(
        tmp_path, options=DataOptions(reader_options={"multiframe": "skip"})
    )  # a DICOM-only option picks dicom
    assert "multi-frame (2 frames)" in skip.skipped[0].reason


def test_non_image_and_missing_pixels_skipped(tmp_path: Path) -> None:
    write_dicom(tmp_path / "a" / "ok.dcm", gradient(16, 255, np.uint8))
    write_dicom(tmp_path / "b" / "ok.dcm", gradient(16, 255, np.uint8))
    write_dicom(
        tmp_path / "a" / "sr.dcm", None, DicomSpec(modality="SR", sop_class=BasicTextSRStorage)
    )
    write_dicom(tmp_path / "a" / "nopix.dcm", None, DicomSpec(modality="CR"))
    (tmp_path / "a" / "broken.dcm").write_bytes(b"\x00" * 10)
    (tmp_path / "a" / "README").write_text("hi")
    scan = scan_dataset(tmp_path, options=DataOptions(reader="dicom"))
    reasons = {s.path.name: s.reason for s in scan.skipped}
    assert reasons["sr.dcm"].startswith("non-image DICOM (Modality SR")
    assert reasons["nopix.dcm"].startswith("no pixel data")
    assert "DICOM" in reasons["broken.dcm"]
    assert reasons["README"] == "not a DICOM file (no extension)"
    assert scan.counts() == {"a": 1, "b": 1}


def test_rle_compressed(tmp_path: Path) -> None:
    from pydicom import dcmread

    raw = gradient(32, 255, np.uint8)
    path = write_dicom(tmp_path / "a" / "rle.dcm", raw)
    write_dicom(tmp_path / "b" / "plain.dcm", raw)
    ds = dcmread(path)
    ds.compress(RLELossless)
    ds.save_as(path)
    out = _load(tmp_path)
    assert out.records[0].meta["transfer_syntax"] == "RLE Lossless"
    assert np.array_equal(out.images[0], out.images[1])


def test_missing_decoder_names_the_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pydicom.pixels.decoders.base import Decoder

    monkeypatch.setattr(Decoder, "is_available", property(lambda self: False))
    from medaug_dicom.codecs import decoder_problem

    msg = decoder_problem("1.2.840.10008.1.2.4.90")
    assert msg is not None and "pip install pylibjpeg-openjpeg" in msg
    src = get_testdata_file("RG1_J2KR.dcm")
    assert src is not None
    (tmp_path / "a").mkdir()
    shutil.copy(src, tmp_path / "a" / "j2k.dcm")
    write_dicom(tmp_path / "b" / "x.dcm", gradient(16, 255, np.uint8))
    scan = scan_dataset(tmp_path, options=DataOptions(reader="dicom"))
    assert "pip install pylibjpeg-openjpeg" in scan.skipped[0].reason


def test_labels_csv_label_tag_and_errors(tmp_path: Path) -> None:
    images = tmp_path / "images"
    for i, (pid, desc) in enumerate([("p1", "CHEST PA"), ("p2", "CHEST AP"), ("p3", "CHEST PA")]):
        write_dicom(
            images / f"{pid}.dcm",
            gradient(16, 255, np.uint8),
            DicomSpec(extra={"StudyDescription": desc}),
            patient_id=f"ID{i}",
        )
    csv = tmp_path / "labels.csv"
    csv.write_text("patientId,class\np1,Lung Opacity\np1,Lung Opacity\np2,Normal\n")
    before = tree_hash(images)
    scan = scan_dataset(images, options=DataOptions(labels=csv))
    assert scan.reader == "dicom" and scan.counts() == {"Lung Opacity": 1, "Normal": 1}
    assert scan.skipped[0].reason == "no label in labels.csv"
    by_tag = scan_dataset(images, options=DataOptions(label_tag="StudyDescription"))
    assert by_tag.counts() == {"CHEST AP": 1, "CHEST PA": 2}
    assert (
        scan_dataset(images, options=DataOptions(label_tag="0008,1030")).counts() == by_tag.counts()
    )
    custom = tmp_path / "custom.csv"
    custom.write_text("img;diag\np1.dcm;x\np3.dcm;y\n")
    assert scan_dataset(
        images,
        options=DataOptions(
            labels=custom, reader_options={"id_column": "img", "label_column": "diag"}
        ),
    ).counts() == {
        "x": 1,
        "y": 1,
    }
    with pytest.raises(MedaugError, match="no label column 'nope'"):
        scan_dataset(
            images,
            options=DataOptions(
                labels=custom, reader_options={"id_column": "img", "label_column": "nope"}
            ),
        )
    with pytest.raises(MedaugError, match="unknown DICOM attribute"):
        scan_dataset(images, options=DataOptions(label_tag="NotAThing"))
    with pytest.raises(MedaugError, match="does not exist"):
        scan_dataset(images, options=DataOptions(labels=tmp_path / "missing.csv"))
    bad = tmp_path / "bad.csv"
    bad.write_text("patientId,class\np1,../../etc\n")
    with pytest.raises(MedaugError, match="escape the output folder"):
        scan_dataset(images, options=DataOptions(labels=bad))
    conflict = tmp_path / "conflict.csv"
    conflict.write_text("patientId,class\np1,a\np1,b\n")
    with pytest.raises(MedaugError, match="two labels"):
        scan_dataset(images, options=DataOptions(labels=conflict))
    with pytest.raises(MedaugError, match="have no label: pass --labels CSV or --label-tag"):
        scan_dataset(
            images, options=DataOptions(reader="dicom")
        )  # flat folder, no labels: nothing usable
    assert tree_hash(images) == before


def test_pydicom_data_rg1_monochrome1_15bit_jpeg2000(tmp_path: Path) -> None:
    for name in ("RG1_UNCR.dcm", "RG1_J2KR.dcm", "RG1_J2KI.dcm"):
        src = get_testdata_file(name)
        assert src is not None, "pydicom-data is a test dependency"
        shutil.copy(src, tmp_path / name)
    csv = tmp_path / "labels.csv"
    csv.write_text(
        "file,label\nRG1_UNCR.dcm,uncompressed\nRG1_J2KR.dcm,lossless\nRG1_J2KI.dcm,lossy\n"
    )
    ds = load_dataset(
        tmp_path, image_size=32, progress=False, options=DataOptions(labels=csv, workers=1)
    )
    assert ds.bit_depth == 16 and ds.images.dtype == np.uint16 and len(ds) == 3
    assert {r.meta["bits"] for r in ds.records} == {15}
    by = {r.label: ds.images[i, 0].astype(int) for i, r in enumerate(ds.records)}
    assert np.abs(by["lossless"] - by["uncompressed"]).max() <= 1
    assert np.abs(by["lossy"] - by["uncompressed"]).mean() < 0.01 * 65535
    x = by["uncompressed"]
    # MONOCHROME1 inverted: mediastinum/spine (centre) brighter than the lungs
    assert x[10:22, 14:18].mean() > x[10:22, 5:10].mean() + 5000


def test_rsna_sample_counts(rsna_dicom_sample: Path) -> None:
    ds = load_dataset(
        rsna_dicom_sample / "images",
        image_size=16,
        progress=False,
        options=DataOptions(labels=rsna_dicom_sample / "labels.csv"),
    )
    assert ds.counts() == {"Lung Opacity": 5, "No Lung Opacity / Not Normal": 7, "Normal": 4}
    assert (
        ds.source_format == "dicom" and ds.skipped == [] and ds.channels == 1 and ds.bit_depth == 8
    )
    assert all(r.patient_id == pseudonym(r.path.stem) for r in ds.records)


def test_write_dicom_old_keywords_still_work_with_a_deprecation_warning(tmp_path: Path) -> None:
    from pydicom import dcmread

    raw = gradient(16, 4095)
    spec = DicomSpec(bits_stored=12, modality="MR", extra={"StudyDescription": "x"})
    new = dcmread(write_dicom(tmp_path / "new.dcm", raw, spec, patient_id="P7"))
    match = "the keyword arguments bits_stored, modality, extra are deprecated"
    with pytest.warns(DeprecationWarning, match=match):
        old = dcmread(
            write_dicom(  # type: ignore[call-arg]
                tmp_path / "old.dcm",
                raw,
                bits_stored=12,
                modality="MR",
                extra={"StudyDescription": "x"},
                patient_id="P7",
            )
        )
    for key in ("BitsStored", "Modality", "StudyDescription", "PatientID", "PixelData"):
        assert old[key].value == new[key].value
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
        write_dicom(tmp_path / "x.dcm", raw, colour=1)
