"""Augmentation: the one seam between medaug and the augmentation library.

Pipelines are albumentations ``A.Compose`` objects: a named preset (:data:`PRESETS`)
or a JSON/YAML file written by ``A.save`` / ``A.to_dict``. Every run saves its
pipeline next to its results (:func:`save_pipeline`) so the recipe can be replayed
exactly. Images cross this seam as float32 tensors ``(N, C, H, W)`` in ``[0, 1]``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import albumentations as A
import numpy as np
import torch

from medaug.atomic import atomic_write_text
from medaug.errors import MedaugError


def _none() -> A.Compose:
    return A.Compose([])


def _light() -> A.Compose:
    return A.Compose(
        [
            A.Affine(scale=(0.95, 1.05), translate_percent=(-0.05, 0.05), rotate=(-5, 5), p=0.5),
            A.RandomBrightnessContrast(brightness_limit=0.1, contrast_limit=0.1, p=0.5),
        ]
    )


def _standard() -> A.Compose:
    return A.Compose(
        [
            A.HorizontalFlip(p=0.5),
            A.Affine(scale=(0.9, 1.1), translate_percent=(-0.08, 0.08), rotate=(-10, 10), p=0.8),
            A.RandomBrightnessContrast(brightness_limit=0.2, contrast_limit=0.2, p=0.7),
            A.RandomGamma(gamma_limit=(80, 125), p=0.3),
        ]
    )


def _strong() -> A.Compose:
    return A.Compose(
        [
            A.HorizontalFlip(p=0.5),
            A.Affine(
                scale=(0.85, 1.15),
                translate_percent=(-0.1, 0.1),
                rotate=(-15, 15),
                shear=(-5, 5),
                p=0.9,
            ),
            A.RandomBrightnessContrast(brightness_limit=0.3, contrast_limit=0.3, p=0.8),
            A.RandomGamma(gamma_limit=(70, 150), p=0.5),
            A.GaussianBlur(blur_limit=(3, 3), p=0.2),
            A.GaussNoise(std_range=(0.01, 0.05), p=0.3),
            A.CoarseDropout(
                num_holes_range=(1, 3),
                hole_height_range=(0.05, 0.15),
                hole_width_range=(0.05, 0.15),
                p=0.3,
            ),
        ]
    )


#: Named pipelines for ``--augment``; "standard" suits chest radiographs at 32-128 px.
PRESETS: dict[str, Callable[[], A.Compose]] = {
    "none": _none,
    "light": _light,
    "standard": _standard,
    "strong": _strong,
}


def load_pipeline(spec: str | Path | None) -> A.Compose:
    """A preset name, or a JSON/YAML file saved by albumentations; ``None`` means "none"."""
    if spec is None:
        return _none()
    text = str(spec)
    if text.lower() in PRESETS:
        return PRESETS[text.lower()]()
    path = Path(text).expanduser()
    if not path.is_file():
        raise MedaugError(
            f"--augment {text!r} is neither a preset ({', '.join(PRESETS)}) nor an existing "
            "albumentations JSON/YAML file"
        )
    fmt = "yaml" if path.suffix.lower() in (".yaml", ".yml") else "json"
    try:
        pipeline = A.load(str(path), data_format=fmt)
    except Exception as exc:
        raise MedaugError(f"cannot read augmentation pipeline {path}: {exc}") from exc
    if not isinstance(pipeline, A.Compose):
        pipeline = A.Compose([pipeline])
    return pipeline


def pipeline_to_dict(pipeline: A.Compose) -> dict[str, Any]:
    """The albumentations serialisation of ``pipeline`` (JSON-compatible)."""
    return dict(A.to_dict(pipeline))


def save_pipeline(pipeline: A.Compose, path: Path) -> Path:
    """Write ``pipeline`` as albumentations JSON (replay with ``--augment PATH``)."""
    atomic_write_text(path, json.dumps(pipeline_to_dict(pipeline), indent=2))
    return path


class Augmenter:
    """Applies an albumentations pipeline to float batches ``(N, C, H, W)`` in ``[0, 1]``."""

    def __init__(self, pipeline: A.Compose | None, *, seed: int = 0) -> None:
        self.pipeline = pipeline if pipeline is not None else _none()
        self.enabled = len(self.pipeline.transforms) > 0
        self.seed = seed
        self.pipeline.set_random_seed(seed)

    def reseed(self, seed: int) -> None:
        """Restart the pipeline's random draws from ``seed`` (the training loop seeds
        every batch, so a batch's augmentation does not depend on what ran before)."""
        self.pipeline.set_random_seed(seed)

    def __call__(self, batch: torch.Tensor) -> torch.Tensor:
        """A new augmented batch (the input is left untouched)."""
        if not self.enabled:
            return batch
        arr = batch.detach().cpu().permute(0, 2, 3, 1).numpy()
        out = np.empty_like(arr)
        for i in range(arr.shape[0]):
            img = np.ascontiguousarray(arr[i])
            res = self.pipeline(image=img)["image"]
            out[i] = np.asarray(res, dtype=np.float32).reshape(img.shape)
        np.clip(out, 0.0, 1.0, out=out)
        return torch.from_numpy(out).permute(0, 3, 1, 2).contiguous().to(batch.device)
