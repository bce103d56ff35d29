"""``--link copy-deidentified``: copy real DICOM files into OUT without patient data.

By default ``balance`` hard-links the real files into OUT unchanged, so a DICOM keeps
every attribute it had, PHI included. With ``copy-deidentified`` each real DICOM file is
copied with the attributes below removed, PatientID and PatientName replaced by one
pseudonym per patient (a SHA-256 of the original PatientID, so patient-grouped splits
still work), private tags removed and ``PatientIdentityRemoved = YES``. Pixel data and
UIDs are kept (the images stay identical and traceable within the site).

What it does not do: remove text burned into the pixels, or every identifier a vendor may
put elsewhere; it is a basic attribute clean-up, not a certified de-identification
(see docs/reliability.md). Non-DICOM files are copied unchanged.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

#: attributes removed (the patient, the people, the places and the dates of care)
REMOVED: tuple[str, ...] = (
    "PatientBirthDate",
    "PatientBirthTime",
    "PatientAddress",
    "PatientTelephoneNumbers",
    "PatientMotherBirthName",
    "OtherPatientIDs",
    "OtherPatientIDsSequence",
    "OtherPatientNames",
    "PatientBirthName",
    "MilitaryRank",
    "EthnicGroup",
    "PatientComments",
    "MedicalRecordLocator",
    "InstitutionName",
    "InstitutionAddress",
    "InstitutionalDepartmentName",
    "ReferringPhysicianName",
    "ReferringPhysicianAddress",
    "PerformingPhysicianName",
    "OperatorsName",
    "PhysiciansOfRecord",
    "NameOfPhysiciansReadingStudy",
    "RequestingPhysician",
    "StationName",
    "AccessionNumber",
    "StudyID",
    "StudyDate",
    "SeriesDate",
    "AcquisitionDate",
    "ContentDate",
    "StudyTime",
    "SeriesTime",
    "AcquisitionTime",
    "ContentTime",
    "AcquisitionDateTime",
    "DeviceSerialNumber",
)
METHOD = "medaug: attributes removed, patient pseudonymised"  # LO: at most 64 characters


def pseudonym(patient_id: str) -> str:
    """A stable pseudonym for a PatientID (the same patient always gets the same one)."""
    return "ANON-" + hashlib.sha256(patient_id.encode("utf-8")).hexdigest()[:16]


def copy_deidentified(src: Path, dst: Path) -> None:
    """Write a de-identified copy of the DICOM file ``src`` to ``dst``."""
    import pydicom

    ds = pydicom.dcmread(src)
    original = str(ds.get("PatientID", "") or src.stem)
    for keyword in REMOVED:
        if keyword in ds:
            delattr(ds, keyword)
    ds.remove_private_tags()
    ds.PatientID = pseudonym(original)
    ds.PatientName = ds.PatientID
    ds.PatientIdentityRemoved = "YES"
    ds.DeidentificationMethod = METHOD
    ds.save_as(dst, enforce_file_format=False)


__all__ = ["METHOD", "REMOVED", "copy_deidentified", "pseudonym"]
