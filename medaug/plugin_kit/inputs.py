"""The images and labels a generator's ``fit`` (and a conditional ``sample``) receives,
checked before anything runs, with messages naming the plugin."""

from __future__ import annotations

import torch

from medaug.errors import MedaugError


def check_images(plugin: str, images: torch.Tensor, channels: int, image_size: int) -> None:
    """Raise unless ``images`` is a non-empty float ``(N, channels, size, size)`` batch."""
    want = (channels, image_size, image_size)
    if images.ndim != 4 or tuple(images.shape[1:]) != want or len(images) == 0:
        raise MedaugError(
            f"{plugin} expects images of shape (N>0, {want[0]}, {want[1]}, {want[2]}), "
            f"got {tuple(images.shape)}"
        )
    if not images.is_floating_point():
        raise MedaugError(f"{plugin} expects float images in [-1, 1], got {images.dtype}")


def check_labels(
    plugin: str, labels: torch.Tensor | None, n: int, num_classes: int, what: str
) -> torch.Tensor:
    """``labels`` as int64 class indices of shape ``(n,)``, each in ``[0, num_classes)``;
    ``what`` names the call (``fit``, ``sample``) in the messages."""
    if labels is None:
        raise MedaugError(f"conditional {plugin}: {what} needs labels (one class index per image)")
    labels = torch.as_tensor(labels)
    if labels.ndim != 1 or len(labels) != n:
        raise MedaugError(
            f"conditional {plugin}: {what} needs labels of shape ({n},), got {tuple(labels.shape)}"
        )
    if labels.is_floating_point() or labels.is_complex() or labels.dtype == torch.bool:
        raise MedaugError(
            f"conditional {plugin}: {what} labels must be integer class indices, got {labels.dtype}"
        )
    if n and not (int(labels.min()) >= 0 and int(labels.max()) < num_classes):
        raise MedaugError(
            f"conditional {plugin}: {what} labels must be in [0, {num_classes}), "
            f"got {int(labels.min())}..{int(labels.max())}"
        )
    return labels.to(torch.long)


__all__ = ["check_images", "check_labels"]
