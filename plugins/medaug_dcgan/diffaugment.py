"""Differentiable Augmentation (Zhao, Liu, Lin, Zhu & Han, NeurIPS 2020, arXiv:2006.10738).

The discriminator sees every image, real or generated, through the same random,
differentiable transforms, so it cannot memorise a small training set and the
generator still gets gradients through them. The transforms follow the authors'
``DiffAugment_pytorch.py`` (images in ``[-1, 1]``, one random draw per image), but draw
from an explicit :class:`torch.Generator` so training stays deterministic and resumable.

Policies, applied in this order whatever order they are named in:

``brightness``  add a per-image offset in ``[-0.5, 0.5)``;
``saturation``  scale each pixel's distance to its channel mean by ``[0, 2)`` (a no-op on
                grayscale images);
``contrast``    scale each image's distance to its mean by ``[0.5, 1.5)``;
``translation`` shift by up to 1/8 of the size in x and y, filling with 0;
``cutout``      zero one square of half the size at a random place.

``color`` stands for brightness, saturation and contrast (the paper's colour policy);
``none`` (or an empty string) turns DiffAugment off. Hue is never changed: for X-rays
(grayscale) the translation and cutout policies are the meaningful ones.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from medaug.errors import MedaugError

TRANSLATION_RATIO = 1 / 8
CUTOUT_RATIO = 1 / 2
ALIASES = {"color": ("brightness", "saturation", "contrast")}


def _uniform(x: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
    return torch.rand(x.shape[0], 1, 1, 1, generator=rng, device=x.device, dtype=x.dtype)


def brightness(x: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
    return x + (_uniform(x, rng) - 0.5)


def saturation(x: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
    mean = x.mean(dim=1, keepdim=True)
    return (x - mean) * (_uniform(x, rng) * 2) + mean


def contrast(x: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (_uniform(x, rng) + 0.5) + mean


def translation(x: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
    n, _, h, w = x.shape
    sh, sw = int(h * TRANSLATION_RATIO + 0.5), int(w * TRANSLATION_RATIO + 0.5)
    dev = x.device
    tx = torch.randint(-sh, sh + 1, (n, 1, 1), generator=rng, device=dev)
    ty = torch.randint(-sw, sw + 1, (n, 1, 1), generator=rng, device=dev)
    rows = (torch.arange(h, device=dev).view(1, h, 1) + tx + 1).clamp(0, h + 1)
    cols = (torch.arange(w, device=dev).view(1, 1, w) + ty + 1).clamp(0, w + 1)
    batch = torch.arange(n, device=dev).view(n, 1, 1)
    padded = F.pad(x, [1, 1, 1, 1]).permute(0, 2, 3, 1)
    return padded[batch, rows, cols].permute(0, 3, 1, 2)


def cutout(x: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
    n, _, h, w = x.shape
    ch, cw = int(h * CUTOUT_RATIO + 0.5), int(w * CUTOUT_RATIO + 0.5)
    dev = x.device
    top = torch.randint(0, h + (1 - ch % 2), (n, 1, 1), generator=rng, device=dev) - ch // 2
    left = torch.randint(0, w + (1 - cw % 2), (n, 1, 1), generator=rng, device=dev) - cw // 2
    rows = torch.arange(h, device=dev).view(1, h, 1)
    cols = torch.arange(w, device=dev).view(1, 1, w)
    hole = (rows >= top) & (rows < top + ch) & (cols >= left) & (cols < left + cw)
    return x * (~hole).unsqueeze(1).to(x.dtype)


TRANSFORMS: dict[str, Callable[[torch.Tensor, torch.Generator], torch.Tensor]] = {
    "brightness": brightness,
    "saturation": saturation,
    "contrast": contrast,
    "translation": translation,
    "cutout": cutout,
}


def canonical_policy(policy: Any) -> str:
    """``policy`` (comma-separated names) in its canonical form: known names in the order
    they are applied, or ``"none"``. Raises :class:`MedaugError` for an unknown name."""
    text = "" if policy is None else str(policy).strip().lower()
    names: set[str] = set()
    for raw in text.replace("+", ",").split(","):
        name = raw.strip()
        if name in ("", "none", "off", "false"):
            continue
        if name in ALIASES:
            names.update(ALIASES[name])
        elif name in TRANSFORMS:
            names.add(name)
        else:
            valid = ", ".join([*TRANSFORMS, *ALIASES, "none"])
            raise MedaugError(
                f"unknown DiffAugment policy {name!r} in dcgan option 'diffaugment'; valid: {valid}"
            )
    ordered = [name for name in TRANSFORMS if name in names]
    return ",".join(ordered) if ordered else "none"


class DiffAugment:
    """The transforms of one policy, applied to a batch with a given random generator."""

    def __init__(self, policy: str) -> None:
        self.policy = canonical_policy(policy)
        names = [] if self.policy == "none" else self.policy.split(",")
        self._transforms = [TRANSFORMS[name] for name in names]

    def __bool__(self) -> bool:
        return bool(self._transforms)

    def __call__(self, x: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
        for transform in self._transforms:
            x = transform(x, rng)
        return x

    def __repr__(self) -> str:
        return f"DiffAugment({self.policy!r})"
