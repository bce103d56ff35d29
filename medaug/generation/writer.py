"""Synthetic images on their way to files: generator output to integer pixels
(:func:`to_pixels`) and the identity a class's images share (:class:`Series`, with
:func:`new_uid`). The file formats that write them are plugins
(:mod:`medaug.contracts.fileformat`: ``png`` from the folder plugin, ``dicom`` from the
DICOM plugin), reached through :func:`medaug.plugins.file_format`.
"""

from __future__ import annotations

import uuid

import numpy as np
import torch

from medaug.contracts.fileformat import Series


def to_pixels(images: torch.Tensor, bit_depth: int = 8) -> np.ndarray:
    """``[-1, 1]`` float images ``(N, C, H, W)`` -> integers ``0 .. 2**bit_depth - 1``.

    ``uint8`` for ``bit_depth <= 8``, else ``uint16``.
    """
    if not 1 <= bit_depth <= 16:
        raise ValueError(f"bit depth must be in 1..16, got {bit_depth}")
    top = float(2**bit_depth - 1)
    scaled = ((images.detach().float().clamp(-1, 1) + 1) * (top / 2)).round_()
    dtype = np.uint8 if bit_depth <= 8 else np.uint16
    return scaled.cpu().numpy().astype(dtype)


def new_uid() -> str:
    """A fresh DICOM UID: the UUID-derived ``2.25`` root (PS3.5 B.2), as pydicom's
    ``generate_uid(prefix=None)`` makes it."""
    return f"2.25.{uuid.uuid4().int}"


__all__ = ["Series", "new_uid", "to_pixels"]
