"""The arms of the experiment: how each one's training set is built.

- ``baseline``: the training part of the train folder, unchanged;
- ``gan``: plus images sampled from a generator fitted on each selected class of the
  training part only (never on validation or test images);
- ``classic``: plus the same number of images per class made by random oversampling
  with an albumentations pipeline (the cheap alternative).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import albumentations as A
import numpy as np
import torch

from medaug.errors import MedaugError
from medaug.plugins import create_generator
from medaug.training.augment import Augmenter
from medaug.training.data import TensorData

Log = Callable[[str], None]


def extra_counts(train: TensorData, synthetic: int | None, strategy: str | None) -> dict[str, int]:
    """Images to add per class: ``synthetic`` per selected class, else fill up per strategy."""
    from medaug.balancing.strategy import resolve_targets

    counts = train.counts()
    targets = resolve_targets(counts, strategy, count=synthetic)
    return {c: int(targets.get(c, 0)) for c in train.classes}


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name) or "class"


def _to_uint8(x: torch.Tensor) -> torch.Tensor:
    return (x.clamp(0, 1) * 255).round().to(torch.uint8)


def gan_images(
    train: TensorData,
    counts: Mapping[str, int],
    *,
    generator: str,
    options: Mapping[str, Any],
    epochs: int,
    batch_size: int,
    seed: int,
    device: torch.device,
    cache_dir: Path,
    log: Log = lambda _m: None,
) -> dict[str, torch.Tensor]:
    """Synthetic images per class in ``[0, 1]``; one generator per class, cached on disk.

    A cached sample file is reused as is, so a generator is trained once per seed and the
    experiment resumes without retraining it.
    """
    cache_dir.mkdir(parents=True, exist_ok=True)
    out: dict[str, torch.Tensor] = {}
    for cls, n in counts.items():
        if n <= 0:
            continue
        path = cache_dir / f"{_safe(cls)}.pt"
        if path.is_file():
            cached = torch.load(path, map_location="cpu", weights_only=True)
            if int(cached["images"].shape[0]) >= n:
                out[cls] = cached["images"][:n].float() / 255.0
                log(f"seed {seed}: reusing {n} synthetic {cls} images ({path.name})")
                continue
        real = train.x[train.y == train.classes.index(cls)]
        if real.shape[0] < 2:
            raise MedaugError(
                f"class {cls!r} has {real.shape[0]} training image(s): too few for a generator"
            )
        gen = create_generator(
            generator,
            image_size=train.image_size,
            channels=train.channels,
            device=device,
            num_classes=1,
            **dict(options),
        )
        sizes = getattr(gen, "supported_sizes", ())
        if sizes and train.image_size not in sizes:
            raise MedaugError(
                f"generator {generator!r} supports image sizes {sizes}, not {train.image_size}"
            )
        log(f"seed {seed}: training {generator} on {real.shape[0]} {cls} images ({epochs} epochs)")
        gen.fit(real * 2 - 1, epochs=epochs, batch_size=batch_size, seed=seed)
        fake = ((gen.sample(n, seed=seed).float().cpu() + 1) / 2).clamp(0, 1)
        images = _to_uint8(fake)
        tmp = path.with_name(path.name + ".tmp")
        torch.save({"images": images, "class": cls, "generator": generator, "epochs": epochs}, tmp)
        os.replace(tmp, path)
        torch.save(gen.state_dict(), cache_dir / f"{_safe(cls)}.generator.pt")
        _save_grid(images[:64], cache_dir / f"{_safe(cls)}.png")
        out[cls] = images.float() / 255.0
    return out


def classic_images(
    train: TensorData, counts: Mapping[str, int], pipeline: A.Compose, *, seed: int
) -> dict[str, torch.Tensor]:
    """Random oversampling (with replacement) of each class, each copy augmented once."""
    rng = np.random.default_rng(seed)
    augmenter = Augmenter(pipeline, seed=seed + 7919)
    out: dict[str, torch.Tensor] = {}
    for cls, n in counts.items():
        if n <= 0:
            continue
        pool = torch.nonzero(train.y == train.classes.index(cls)).flatten().numpy()
        if len(pool) == 0:
            raise MedaugError(f"class {cls!r} has no training images to oversample")
        idx = rng.choice(pool, size=n, replace=True)
        out[cls] = augmenter(train.x[torch.as_tensor(idx)])
    return out


def with_extras(train: TensorData, extras: Mapping[str, torch.Tensor], origin: str) -> TensorData:
    """``train`` plus the extra images of each class."""
    data = train
    for cls, x in extras.items():
        y = torch.full((x.shape[0],), train.classes.index(cls), dtype=torch.int64)
        data = data.extend(x, y, origin)
    return data


def _save_grid(images: torch.Tensor, path: Path) -> None:
    from torchvision.utils import save_image

    if images.shape[0]:
        save_image(images.float() / 255.0, path, nrow=8)
