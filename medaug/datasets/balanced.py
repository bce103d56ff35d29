""":class:`BalancedFolder`: a ``torch.utils.data.Dataset`` over a ``medaug balance`` output."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import astuple
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from medaug.data.options import parse_channels
from medaug.datasets.output import BalanceOutput
from medaug.datasets.pixels import read_image, to_channels, to_size
from medaug.datasets.transforms import ImageTransform, TransformInput
from medaug.errors import MedaugError
from medaug.output.manifest import ManifestRow


class BalancedFolder(Dataset[tuple[Any, int]]):
    """The real and synthetic images of a balance output ``root`` (``medaug balance --out``).

    ``ds[i]`` is ``(image, target)``: ``image`` a float32 tensor ``(C, H, W)`` in ``[0, 1]``
    (passed through ``transform``, see :mod:`medaug.datasets.transforms` for what each
    ``transform_input`` hands it), ``target`` the class index. Classes, targets and the
    order of :attr:`samples` are those of ``torchvision.datasets.ImageFolder(root /
    "dataset")``; :meth:`provenance` tells where each image came from.

    ``image_size`` centre-crops and resizes every image to a square of that side (real
    images keep their original size otherwise, synthetic ones have the generator's);
    ``channels`` 1 or 3 gives every image that many channels (``None``/``"auto"`` keeps each
    file's own).
    """

    def __init__(
        self,
        root: Path | str,
        transform: Callable[..., Any] | None = None,
        target_transform: Callable[[int], Any] | None = None,
        *,
        transform_input: TransformInput = "auto",
        image_size: int | None = None,
        channels: int | str | None = None,
    ) -> None:
        if image_size is not None and image_size < 1:
            raise MedaugError(f"image_size must be at least 1, got {image_size}")
        output = BalanceOutput.open(root)
        self.root = output.root
        #: the folder ``ImageFolder`` would be given (class folders only)
        self.dataset_root = output.dataset_root
        self.classes: list[str] = output.classes
        self.class_to_idx: dict[str, int] = output.class_to_idx
        self.samples: list[tuple[str, int]] = [(str(e.file), e.target) for e in output.entries]
        self.imgs = self.samples
        self.targets: list[int] = [e.target for e in output.entries]
        #: ``"real"`` or ``"synthetic"`` per image
        self.sources: list[str] = [e.row.source for e in output.entries]
        #: the run's settings (generator, image_size, epochs, seed...) from its run record
        self.settings: dict[str, Any] = dict(output.record.get("settings", {}))
        self.transform = transform
        self.target_transform = target_transform
        self.image_size = image_size
        self.channels = parse_channels(channels)
        self._rows: list[ManifestRow] = [e.row for e in output.entries]
        self._apply = ImageTransform(transform, transform_input)

    def __len__(self) -> int:
        return len(self.samples)

    def load_image(self, index: int) -> torch.Tensor:
        """Image ``index`` before ``transform``: float32 ``(C, H, W)`` in ``[0, 1]``."""
        image = read_image(Path(self.samples[index][0]))
        image = to_size(to_channels(image, self.channels), self.image_size)
        return torch.from_numpy(np.require(image, np.float32, ["C_CONTIGUOUS", "WRITEABLE"]))

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        image = self._apply(self.load_image(index))
        target: Any = self.targets[index]
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def provenance(self, index: int) -> dict[str, Any]:
        """The manifest row of image ``index`` (``path`` relative to :attr:`root`,
        ``class``, ``source``, ``original_path``, ``generator``, ``generator_options``,
        ``seed``, ``checkpoint_sha256``, ``medaug_version``, ``created``; all strings) plus
        ``file`` (its full path) and ``target``."""
        row = self._rows[index]
        values = dict(zip(ManifestRow.columns(), astuple(row), strict=True))
        return {**values, "file": self.samples[index][0], "target": self.targets[index]}

    def real_indices(self) -> list[int]:
        """Indices of the real images."""
        return [i for i, s in enumerate(self.sources) if s != "synthetic"]

    def synthetic_indices(self) -> list[int]:
        """Indices of the synthetic images."""
        return [i for i, s in enumerate(self.sources) if s == "synthetic"]

    def __repr__(self) -> str:
        synthetic = len(self.synthetic_indices())
        return (
            f"BalancedFolder({str(self.root)!r}: {len(self)} images, {len(self) - synthetic} "
            f"real + {synthetic} synthetic, classes {self.classes})"
        )


__all__ = ["BalancedFolder"]
