""":class:`SyntheticImages`: fresh synthetic images streamed from generator checkpoints.

Image ``i`` of a class is image ``i`` of what ``medaug generate CHECKPOINT -n N --seed S``
writes for it (the same chunk seeding, :func:`medaug.generation.sampling.sample_chunk`,
and the same quantisation to the checkpoint's bit depth), so it equals that file read
back by :class:`~medaug.datasets.BalancedFolder`, pixel for pixel, on the same device.
Images are drawn a chunk of :data:`~medaug.generation.sampling.CHUNK` at a time; the last
few chunks are kept, so reading in index order (or in shuffled order with a small ``n``)
samples each chunk once.
"""

from __future__ import annotations

import functools
import json
import warnings
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, ParamSpec

import numpy as np
import torch
from torch.utils.data import Dataset

from medaug.balancing.generation import find_checkpoints
from medaug.data.names import class_folder_name
from medaug.data.options import parse_channels
from medaug.datasets.pixels import to_channels, to_size, unit_from_ints
from medaug.datasets.transforms import ImageTransform, TransformInput
from medaug.digests import sha256_file
from medaug.errors import MedaugError
from medaug.generation.checkpoint import (
    CheckpointInfo,
    build_generator,
    load_checkpoint,
)
from medaug.generation.sampling import CHUNK, sample_chunk, synthetic_name
from medaug.generation.writer import to_pixels
from medaug.output.layout import OutputLayout

#: sampled chunks kept in memory per dataset
KEPT_CHUNKS = 16

P = ParamSpec("P")


def file_pixels(images: torch.Tensor, output_format: str, bit_depth: int) -> torch.Tensor:
    """``[-1, 1]`` images as the values their written files read back as, in ``[0, 1]``
    (quantised to ``bit_depth``; an RGB PNG keeps 8 bits, as the PNG writer does)."""
    pixels = to_pixels(images, bit_depth)
    if output_format == "png" and pixels.shape[1] == 3 and pixels.dtype == np.uint16:
        pixels = (pixels >> 8).astype(np.uint8)
    top = 2**bit_depth - 1 if output_format == "dicom" else np.iinfo(pixels.dtype).max
    return torch.from_numpy(unit_from_ints(pixels, top))


@dataclass(frozen=True)
class _Unit:
    """One class of one checkpoint."""

    class_name: str
    folder: str
    class_index: int  # the generator's label for a conditional checkpoint
    checkpoint: Path
    sha256: str
    info: CheckpointInfo


@dataclass(frozen=True)
class ItemFormat:
    """What ``ds[i]`` of a :class:`SyntheticImages` is: its image and its target.

    The image is resized to ``image_size`` and converted to ``channels`` as in
    :class:`~medaug.datasets.BalancedFolder` (``None``: as the written files are), then
    handed to ``transform`` as ``transform_input`` says
    (:mod:`medaug.datasets.transforms`). The target is the class's number in
    ``class_to_idx`` (default: the sorted class folders numbered from 0; pass
    ``BalancedFolder(OUT).class_to_idx`` to concatenate the two), then passed through
    ``target_transform``.
    """

    transform: Callable[..., Any] | None = None
    target_transform: Callable[[int], Any] | None = None
    transform_input: TransformInput = "auto"
    class_to_idx: Mapping[str, int] | None = None
    image_size: int | None = None
    channels: int | str | None = None


def _item_keywords_deprecated(init: Callable[P, None]) -> Callable[P, None]:
    """Keep the keyword arguments ``SyntheticImages`` took before ``items``
    (``transform=``, ``class_to_idx=``, ``image_size=``...) working, deprecated: they
    are applied to ``items`` (default ``ItemFormat()``), with a DeprecationWarning."""
    names = {f.name for f in fields(ItemFormat)}

    @functools.wraps(init)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> None:
        legacy: dict[str, Any] = {k: kwargs.pop(k) for k in list(kwargs) if k in names}
        if legacy:
            warnings.warn(
                f"SyntheticImages(): the keyword arguments {', '.join(legacy)} are "
                "deprecated; pass items=medaug.datasets.ItemFormat(...) instead",
                DeprecationWarning,
                stacklevel=2,
            )
            items = kwargs.get("items")
            base = items if isinstance(items, ItemFormat) else ItemFormat()
            kwargs["items"] = replace(base, **legacy)
        init(*args, **kwargs)

    return wrapper


class SyntheticImages(Dataset[tuple[Any, int]]):
    """``n`` synthetic images per class from ``checkpoint``: a ``.pt`` file, a folder of
    them (``OUT/checkpoints``) or a balance output ``OUT``.

    ``ds[i]`` is ``(image, target)`` like :class:`~medaug.datasets.BalancedFolder` (float32
    ``(C, H, W)`` in ``[0, 1]`` through the transform); the images come class folder by
    class folder in sorted order, ``n`` each, drawn with ``seed`` on ``device``;
    ``class_name`` keeps one class. ``items`` (an :class:`ItemFormat`) says what each
    item is: image size and channels (without them, the pixels are exactly those of the
    written files), transform, target numbering (``class_to_idx``) and target transform.
    :attr:`classes` lists the class folders by target. Use ``num_workers=0`` in a
    ``DataLoader`` when ``device`` is a GPU.

    The keyword arguments this class took before ``items`` (``transform=``,
    ``target_transform=``, ``transform_input=``, ``class_to_idx=``, ``image_size=``,
    ``channels=``) still work, with a :class:`DeprecationWarning`.
    """

    @_item_keywords_deprecated
    def __init__(
        self,
        checkpoint: Path | str,
        n: int,
        *,
        seed: int = 0,
        class_name: str | None = None,
        items: ItemFormat | None = None,
        device: str | torch.device = "cpu",
    ) -> None:
        from medaug.runtime import resolve_device

        items = items if items is not None else ItemFormat()
        if n < 1:
            raise MedaugError(f"n must be at least 1, got {n}")
        if seed < 0:
            raise MedaugError(f"seed must be >= 0, got {seed}")
        if items.image_size is not None and items.image_size < 1:
            raise MedaugError(f"image_size must be at least 1, got {items.image_size}")
        self.image_size = items.image_size
        self.channels = parse_channels(items.channels)
        self.n = n
        self.seed = seed
        self.device = resolve_device(device)
        self._apply = ImageTransform(items.transform, items.transform_input)
        self.target_transform = items.target_transform
        units, states = _units(Path(checkpoint))
        if class_name is not None:
            units = _keep_class(units, class_name)
        self._units = units
        self.class_to_idx: dict[str, int] = _class_to_idx(
            [u.folder for u in units], items.class_to_idx
        )
        self.classes: list[str] = sorted(self.class_to_idx, key=self.class_to_idx.__getitem__)
        self.targets: list[int] = [self.class_to_idx[u.folder] for u in units for _ in range(n)]
        used = dict.fromkeys(u.checkpoint for u in units)  # the kept classes' checkpoints
        self._generators = {
            p: build_generator(states[p][0], self.device, states[p][1]) for p in used
        }
        self._chunks: OrderedDict[tuple[int, int], torch.Tensor] = OrderedDict()

    def __len__(self) -> int:
        return self.n * len(self._units)

    def _locate(self, index: int) -> tuple[int, int]:
        """(unit position, index within the class) of image ``index``."""
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} images")
        return divmod(index % len(self), self.n)

    def load_image(self, index: int) -> torch.Tensor:
        """Image ``index`` before ``transform``: float32 ``(C, H, W)`` in ``[0, 1]``."""
        position, k = self._locate(index)
        unit = self._units[position]
        chunk, offset = divmod(k, CHUNK)
        key = (position, chunk)
        images = self._chunks.get(key)
        if images is None:
            with torch.no_grad():
                raw = sample_chunk(
                    self._generators[unit.checkpoint],
                    unit.class_name,
                    unit.class_index,
                    self.seed,
                    chunk,
                )
            images = file_pixels(raw, unit.info.output_format, unit.info.bit_depth)
            self._chunks[key] = images
            while len(self._chunks) > KEPT_CHUNKS:
                self._chunks.popitem(last=False)
        else:
            self._chunks.move_to_end(key)
        image = to_size(to_channels(images[offset].numpy(), self.channels), self.image_size)
        return torch.from_numpy(np.array(image, dtype=np.float32))  # a copy, never the cache

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        image = self._apply(self.load_image(index))
        target: Any = self.targets[index]
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def provenance(self, index: int) -> dict[str, Any]:
        """Where image ``index`` comes from, in the manifest's terms (``source``,
        ``class``, ``generator``, ``generator_options``, ``seed``, ``checkpoint_sha256``),
        plus ``checkpoint`` (its path), ``index`` (within its class) and ``name`` (the
        file ``medaug generate`` writes for it)."""
        position, k = self._locate(index)
        unit = self._units[position]
        return {
            "source": "synthetic",
            "class": unit.class_name,
            "generator": unit.info.generator,
            "generator_options": json.dumps(dict(unit.info.generator_options), sort_keys=True),
            "seed": str(self.seed),
            "checkpoint_sha256": unit.sha256,
            "checkpoint": str(unit.checkpoint),
            "index": k,
            "name": synthetic_name(self.seed, k, unit.info.output_format),
            "target": self.targets[index],
        }

    def __repr__(self) -> str:
        return (
            f"SyntheticImages({len(self)} images: {self.n} per class of "
            f"{[u.folder for u in self._units]}, "
            f"seed {self.seed})"
        )


def _units(path: Path) -> tuple[list[_Unit], dict[Path, tuple[CheckpointInfo, Any]]]:
    """Every class of every checkpoint under ``path``, sorted by class folder."""
    layout = OutputLayout.find(path) if path.is_dir() else None
    paths = find_checkpoints(layout.checkpoints if layout is not None else path)
    units: list[_Unit] = []
    states: dict[Path, tuple[CheckpointInfo, Any]] = {}
    for ckpt in paths:
        info, state = load_checkpoint(ckpt)
        states[ckpt] = (info, state)
        sha = sha256_file(ckpt)
        names = info.class_names if len(info.class_names) > 1 else [info.class_name]
        for cls in names:
            index = info.class_names.index(cls) if cls in info.class_names else 0
            units.append(_Unit(cls, class_folder_name(cls), index, ckpt, sha, info))
    seen: dict[str, Path] = {}
    for unit in units:
        if unit.folder in seen:
            raise MedaugError(
                f"class {unit.class_name!r} is in two checkpoints: {seen[unit.folder]} and "
                f"{unit.checkpoint}; pass one of them"
            )
        seen[unit.folder] = unit.checkpoint
    return sorted(units, key=lambda u: u.folder), states


def _keep_class(units: list[_Unit], class_name: str) -> list[_Unit]:
    kept = [u for u in units if class_name in (u.class_name, u.folder)]
    if not kept:
        known = ", ".join(u.class_name for u in units)
        raise MedaugError(f"no checkpoint models class {class_name!r}; these do: {known}")
    return kept


def _class_to_idx(folders: list[str], given: Mapping[str, int] | None) -> dict[str, int]:
    if given is None:
        return {folder: i for i, folder in enumerate(sorted(folders))}
    missing = [f for f in folders if f not in given]
    if missing:
        raise MedaugError(
            f"class_to_idx has no entry for {', '.join(missing)} (it has {', '.join(given)})"
        )
    return {str(k): int(v) for k, v in given.items()}


__all__ = ["KEPT_CHUNKS", "ItemFormat", "SyntheticImages", "file_pixels"]
