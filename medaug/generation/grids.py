"""Grids of generated images: the progress grids written while a generator trains, and
the sample grids of reports."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from medaug.atomic import atomic_path


def make_grid(images: torch.Tensor, nrow: int = 8, padding: int = 2) -> Image.Image:
    """``[-1, 1]`` images ``(N, C, H, W)`` -> one PIL image (grayscale or RGB)."""
    from torchvision.utils import make_grid as tv_grid

    if len(images) == 0:
        images = torch.zeros(1, 1, 8, 8)
    grid = tv_grid(images.float(), nrow=nrow, padding=padding, normalize=True, value_range=(-1, 1))
    arr = (grid.clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
    if images.shape[1] == 1:
        return Image.fromarray(np.ascontiguousarray(arr[..., 0]), mode="L")
    return Image.fromarray(np.ascontiguousarray(arr), mode="RGB")


def save_image(path: Path, img: Image.Image) -> None:
    """Save a PIL image as PNG atomically."""
    with atomic_path(path) as tmp:
        img.save(tmp, format="PNG")


def save_grid(path: Path, images: torch.Tensor, nrow: int = 8) -> None:
    """Save a grid of ``[-1, 1]`` images atomically."""
    save_image(path, make_grid(images, nrow=nrow))


__all__ = ["make_grid", "save_grid", "save_image"]
