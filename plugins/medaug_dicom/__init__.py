"""medaug's DICOM reader (pydicom): labels from folders, a CSV or a DICOM attribute.

The pixel pipeline applies the Modality LUT (or RescaleSlope/Intercept), then the VOI
LUT or WindowCenter/Width when present (else a min-max scaling), inverts MONOCHROME1
and decodes compressed transfer syntaxes through pydicom's pixel handlers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import medaug

if TYPE_CHECKING:
    from medaug.hookspecs import Register

__all__ = ["register_formats", "register_readers"]


@medaug.hookimpl
def register_readers(register: Register) -> None:
    """Register the ``dicom`` reader.

    The factory is imported on first use, so listing plugins needs no torch.
    """
    register(
        "dicom",
        "medaug_dicom.reader:DicomReader",
        description="DICOM files (pydicom); labels from class folders, a CSV or a DICOM attribute.",
    )


@medaug.hookimpl
def register_formats(register: Register) -> None:
    """Register the ``dicom`` file format (imported on first use)."""
    register(
        "dicom",
        "medaug_dicom.output:DicomFormat",
        description="DICOM Secondary Capture out (new UIDs, no patient data); DICOM in (pydicom).",
    )
