"""Resume after kill -9, and DICOM in -> DICOM Secondary Capture out without PHI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.helpers import tree_hash

from .balance_helpers import TINY, class_files, manifest, run, run_json

pytestmark = pytest.mark.slow

SMALL = ["--image-size", "16", "--batch-size", "4", "-O", "ngf=8", "-O", "ndf=8", "--no-audit"]


def _start(args: list[str], stderr: int | None = subprocess.DEVNULL) -> subprocess.Popen[bytes]:
    # Python ignores Ctrl-C when it starts with SIGINT ignored, as every command that a
    # non-interactive shell puts in the background (`pytest &`, nohup) does: the child
    # takes Python's usual handler back, so the test does not depend on how it was started
    code = "import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
    return subprocess.Popen(
        [sys.executable, "-c", code + "from medaug.cli import main; main()", *args],
        stdout=subprocess.DEVNULL,
        stderr=stderr,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )


def _wait_for(path: Path, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)


def _pixels(paths: list[Path]) -> list[np.ndarray]:
    out = []
    for p in paths:
        with Image.open(p) as im:
            out.append(np.asarray(im))
    return out


def test_resume_after_kill_reaches_the_same_result(image_folder, tmp_path: Path) -> None:
    data = image_folder({"NORMAL": 24, "PNEUMONIA": 40}, size=16)
    out = tmp_path / "out"
    args = ["balance", str(data), "--out", str(out), *SMALL, "--epochs", "30", "--seed", "2"]
    proc = _start([*args, "--json"])
    try:
        _wait_for(out / "checkpoints" / "NORMAL.pt", proc)
        time.sleep(0.1)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    state = json.loads((out / ".medaug-run.json").read_text())
    assert state["status"] == "running"

    refused = run(args, ok=False)
    assert refused.exit_code == 1 and "--resume" in refused.output
    summary = run_json([*args, "--resume"])
    assert summary["resumed"] is True
    assert summary["counts_after"] == {"NORMAL": 40, "PNEUMONIA": 40}
    synth = [p for p in class_files(out, "NORMAL") if p.name.startswith("synthetic_")]
    assert len(synth) == 16 and len(class_files(out, "NORMAL")) == 40
    assert not list(out.rglob(".medaug-tmp-*"))
    assert len(manifest(out)) == 80

    # an uninterrupted run with the same settings gives the same images
    ref = tmp_path / "ref"
    run_json(["balance", str(data), "--out", str(ref), *SMALL, "--epochs", "30", "--seed", "2"])
    ref_synth = sorted((ref / "dataset" / "NORMAL").glob("synthetic_*"))
    assert [p.name for p in ref_synth] == [p.name for p in synth]
    for a, b in zip(_pixels(synth), _pixels(ref_synth), strict=True):
        np.testing.assert_array_equal(a, b)


def test_ctrl_c_stops_cleanly_and_resumes(image_folder, tmp_path: Path) -> None:
    data = image_folder({"NORMAL": 24, "PNEUMONIA": 40}, size=16)
    out = tmp_path / "out"
    args = ["balance", str(data), "--out", str(out), *SMALL, "--epochs", "30"]
    proc = _start(args, stderr=subprocess.PIPE)
    _wait_for(out / "checkpoints" / "NORMAL.pt", proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err.decode()
    assert b"Error: interrupted" in err and b"Traceback" not in err
    assert not list(out.rglob(".medaug-tmp-*"))
    summary = run_json([*args, "--resume"])
    assert summary["counts_after"] == {"NORMAL": 40, "PNEUMONIA": 40}


PHI_TAGS = (
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "OtherPatientIDs",
    "PatientAddress",
    "InstitutionName",
    "ReferringPhysicianName",
    "AccessionNumber",
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "SOPInstanceUID",
    "StudyID",
    "FrameOfReferenceUID",
)


def test_dicom_in_gives_secondary_capture_out_without_phi(
    rsna_dicom_sample: Path, tmp_path: Path
) -> None:
    import pydicom

    before = tree_hash(rsna_dicom_sample)
    out = tmp_path / "out"
    summary = run_json(
        [
            "balance",
            str(rsna_dicom_sample / "images"),
            "--labels",
            str(rsna_dicom_sample / "labels.csv"),
            "--out",
            str(out),
            "--image-size",
            "16",
            "--epochs",
            "1",
            "--batch-size",
            "4",
        ]
    )
    assert tree_hash(rsna_dicom_sample) == before
    assert summary["output_format"] == "dicom"
    assert set(summary["counts_after"].values()) == {7}
    secret: set[str] = set()
    for path in (rsna_dicom_sample / "images").glob("*.dcm"):
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        for tag in PHI_TAGS:
            value = str(ds.get(tag, "") or "")
            if len(value) >= 4:
                secret.add(value)
    assert secret
    synthetic = sorted(out.rglob("synthetic_*.dcm"))
    assert len(synthetic) == 2 + 3
    study = set()
    for path in synthetic:
        raw = path.read_bytes()
        assert not any(s.encode() in raw for s in secret), path
        ds = pydicom.dcmread(path)
        assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.7"
        assert list(ds.ImageType) == ["DERIVED", "SECONDARY"]
        assert ds.ConversionType == "SYN"
        assert "SYNTHETIC" in ds.ImageComments and "dcgan" in ds.ImageComments
        assert ds.PatientID == "SYNTHETIC"
        assert ds.pixel_array.shape == (16, 16)
        study.add(ds.StudyInstanceUID)
    assert len(study) == 1
    folders = sorted(p.name for p in (out / "dataset").iterdir())
    assert folders == ["Lung Opacity", "No Lung Opacity _ Not Normal", "Normal"]
    rows = manifest(out)
    assert {r["class"] for r in rows} == {"Lung Opacity", "No Lung Opacity / Not Normal", "Normal"}
    assert len(rows) == 21


def test_copy_deidentified_strips_patient_data_from_real_dicoms(tmp_path: Path) -> None:
    import numpy as np
    import pydicom
    from medaug_dicom.deidentify import pseudonym

    from medaug.testing import DicomSpec, write_dicom

    data = tmp_path / "data"
    rng = np.random.default_rng(0)
    for cls, n in (("NORMAL", 4), ("PNEUMONIA", 6)):
        for i in range(n):
            write_dicom(
                data / cls / f"{cls}_{i}.dcm",
                rng.integers(0, 255, (16, 16), dtype=np.uint8),
                DicomSpec(
                    extra={
                        "PatientName": "Doe^Jane",
                        "PatientBirthDate": "19700101",
                        "InstitutionName": "St Example",
                        "StudyDate": "20240102",
                    }
                ),
                patient_id=f"MRN-{cls}-{i}",
            )
    before = tree_hash(data)
    out = tmp_path / "out"
    run_json(["balance", str(data), "--out", str(out), *TINY, "--link", "copy-deidentified"])
    assert tree_hash(data) == before  # the input is untouched
    for cls in ("NORMAL", "PNEUMONIA"):
        # named real_00001.dcm... in the input's order: no input name reaches OUT
        copies = sorted((out / "dataset" / cls).glob("real_*.dcm"))
        inputs = sorted((data / cls).glob("*.dcm"))
        assert len(copies) == len(inputs) and not list((out / "dataset" / cls).glob(f"{cls}_*"))
        for path, source in zip(copies, inputs, strict=True):
            ds = pydicom.dcmread(path)
            original = pydicom.dcmread(source)
            assert ds.PatientID == pseudonym(original.PatientID) != original.PatientID
            assert str(ds.PatientName) == ds.PatientID
            for keyword in ("PatientBirthDate", "InstitutionName", "StudyDate"):
                assert keyword not in ds
            assert ds.PatientIdentityRemoved == "YES"
            assert ds.PixelData == original.PixelData  # the image itself is unchanged
            assert path.stat().st_ino != source.stat().st_ino
