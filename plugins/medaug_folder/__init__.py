"""medaug's folder reader: the torchvision ImageFolder layout (``ROOT/<class>/**/<file>``).

PNG, JPEG, BMP, TIFF (8 and 16 bit), GIF and WebP are decoded with Pillow; ``.dcm``
files found in class folders are handed to whichever registered reader claims them.
"""

from __future__ import annotations

from typing import Any

import medaug
from medaug_folder.reader import FolderReader

__all__ = ["FolderReader", "register_readers"]


@medaug.hookimpl
def register_readers(register: Any) -> None:
    """Register the ``folder`` reader."""
    register("folder", FolderReader)
