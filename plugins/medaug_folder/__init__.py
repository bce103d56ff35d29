"""medaug's folder reader: the torchvision ImageFolder layout (``ROOT/<class>/**/<file>``).

PNG, JPEG, BMP, TIFF (8 and 16 bit), GIF and WebP are decoded with Pillow; ``.dcm``
files found in class folders are handed to whichever registered reader claims them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import medaug

if TYPE_CHECKING:
    from medaug.hookspecs import Register

__all__ = ["register_formats", "register_readers"]


@medaug.hookimpl
def register_readers(register: Register) -> None:
    """Register the ``folder`` reader.

    The factory is imported on first use, so listing plugins needs no torch.
    """
    register(
        "folder",
        "medaug_folder.reader:FolderReader",
        description="Class folders of PNG/JPEG/BMP/TIFF images (and DICOM via the DICOM reader).",
    )


@medaug.hookimpl
def register_formats(register: Register) -> None:
    """Register the ``png`` file format (imported on first use)."""
    register(
        "png",
        "medaug_folder.formats:PngFormat",
        description="PNG with provenance text chunks out; PNG/JPEG/BMP/TIFF... in (Pillow).",
    )
