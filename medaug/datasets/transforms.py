"""How a dataset hands its image to a user's transform (torchvision, albumentations, MONAI).

The image starts as a float32 tensor ``(C, H, W)`` in ``[0, 1]``. ``transform_input`` says
what the transform receives:

``"tensor"``
    that tensor. torchvision v2 transforms (``v2.RandomHorizontalFlip``, ``v2.Normalize``...),
    MONAI array transforms (``RandFlip``, ``ScaleIntensity``..., channel-first; their
    output is a ``MetaTensor``) and any function of a tensor.
``"pil"``
    a PIL image, mode ``L`` (1 channel) or ``RGB`` (3), 8 bits: torchvision v1 pipelines
    written for ``ImageFolder`` (``transforms.Compose([Resize(64), ToTensor()])``).
``"albumentations"``
    ``transform(image=HWC float32 numpy)["image"]``; a NumPy result comes back as a
    ``(C, H, W)`` tensor, a tensor (``ToTensorV2``) as it is.
``"auto"`` (default)
    ``"albumentations"`` for an ``A.BasicTransform``/``A.Compose``, else ``"tensor"``.

Whatever the transform returns is what the dataset returns.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import numpy as np
import torch
from PIL import Image

from medaug.errors import MedaugError

TransformInput = Literal["auto", "tensor", "pil", "albumentations"]
TRANSFORM_INPUTS: tuple[str, ...] = ("auto", "tensor", "pil", "albumentations")


def is_albumentations(transform: Any) -> bool:
    """An albumentations transform or pipeline (called with ``image=``)."""
    import albumentations as A

    return isinstance(transform, A.BasicTransform | A.BaseCompose)


def to_pil(image: torch.Tensor) -> Image.Image:
    """A ``(1|3, H, W)`` float tensor in ``[0, 1]`` as an 8-bit ``L``/``RGB`` PIL image."""
    pixels = (image.detach().cpu().clamp(0, 1) * 255).round().to(torch.uint8).numpy()
    if pixels.shape[0] == 1:
        return Image.fromarray(pixels[0], mode="L")
    return Image.fromarray(np.ascontiguousarray(pixels.transpose(1, 2, 0)), mode="RGB")


def _from_albumentations(out: Any) -> Any:
    if isinstance(out, np.ndarray):
        arr = out[..., None] if out.ndim == 2 else out
        return torch.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1)))
    return out


class ImageTransform:
    """``transform`` wrapped so that it always receives what it expects (picklable, so
    it works in ``DataLoader`` worker processes)."""

    def __init__(self, transform: Callable[..., Any] | None, transform_input: str = "auto") -> None:
        if transform_input not in TRANSFORM_INPUTS:
            raise MedaugError(
                f"transform_input must be one of {', '.join(TRANSFORM_INPUTS)}; "
                f"got {transform_input!r}"
            )
        if transform is not None and not callable(transform):
            raise MedaugError(f"transform must be callable, got {type(transform).__name__}")
        if transform_input == "auto":
            transform_input = "albumentations" if is_albumentations(transform) else "tensor"
        self.transform = transform
        self.kind = transform_input

    def __call__(self, image: torch.Tensor) -> Any:
        if self.transform is None:
            return image
        if self.kind == "pil":
            return self.transform(to_pil(image))
        if self.kind == "albumentations":
            hwc = np.ascontiguousarray(image.numpy().transpose(1, 2, 0))
            return _from_albumentations(self.transform(image=hwc)["image"])
        return self.transform(image)


__all__ = ["TRANSFORM_INPUTS", "ImageTransform", "TransformInput", "is_albumentations", "to_pil"]
