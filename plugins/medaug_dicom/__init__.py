"""medaug's DICOM reader (pydicom): labels from folders, a CSV or a DICOM attribute.

The pixel pipeline applies the Modality LUT (or RescaleSlope/Intercept), then the VOI
LUT or WindowCenter/Width when present (else a min-max scaling), inverts MONOCHROME1
and decodes compressed transfer syntaxes through pydicom's pixel handlers.
"""

from __future__ import annotations

from typing import Any

import medaug
from medaug_dicom.reader import DicomReader

__all__ = ["DicomReader", "register_readers"]


@medaug.hookimpl
def register_readers(register: Any) -> None:
    """Register the ``dicom`` reader."""
    register("dicom", DicomReader)
