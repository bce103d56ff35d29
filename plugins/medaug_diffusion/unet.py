"""MONAI's ``DiffusionModelUNet``, sized from the image size.

One resolution level per factor of two from the image size down to 8 px (2 levels at
16 px, 4 at 64 px, 6 at 256 px). Channels are ``width`` at full resolution and grow
``(1, 2, 2, 4, 4, 4) x width`` towards 8 px, as in the DDPM CIFAR-10 UNet (Ho et al.
2020, widths ``(1, 2, 2, 2) x 128``) scaled down for CPU use. Self-attention sits at
the levels of ``attention_res`` px and below (16: the 16 and 8 px levels, as DDPM puts it
at 16x16); MONAI always adds one in the bottleneck.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from monai.networks.nets import DiffusionModelUNet

WIDTH_MULTS = (1, 2, 2, 4, 4, 4)
LOWEST_RES = 8
MAX_HEAD_CHANNELS = 32
MAX_NORM_GROUPS = 32


def level_sizes(image_size: int) -> list[int]:
    """Resolution of each UNet level, from ``image_size`` down to 8 px."""
    if image_size < 2 * LOWEST_RES or image_size & (image_size - 1):
        raise ValueError(f"image size must be a power of two >= 16, got {image_size}")
    return [image_size >> i for i in range(int(math.log2(image_size // LOWEST_RES)) + 1)]


def level_channels(image_size: int, width: int) -> tuple[int, ...]:
    """Channels of each level (``width`` times :data:`WIDTH_MULTS`)."""
    levels = len(level_sizes(image_size))
    return tuple(width * m for m in WIDTH_MULTS[:levels])


@dataclass(frozen=True)
class UNetLayout:
    """The UNet's size (the ``ddpm`` options of the same names): ``width`` channels at
    full resolution, ``res_blocks`` residual blocks per level, self-attention at the
    levels of ``attention_res`` px and below."""

    width: int
    res_blocks: int
    attention_res: int


def build_unet(
    image_size: int,
    channels: int,
    layout: UNetLayout,
    *,
    num_class_embeds: int | None,
    seed: int,
) -> DiffusionModelUNet:
    """A noise-prediction UNet for ``channels``-channel images of ``image_size`` px,
    shaped by ``layout``.

    Its weights come from ``seed`` (MONAI's default initialisation, run on a forked
    global RNG, so building never changes the caller's random state).
    """
    width = layout.width
    chans = level_channels(image_size, width)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return DiffusionModelUNet(
            spatial_dims=2,
            in_channels=channels,
            out_channels=channels,
            channels=chans,
            attention_levels=tuple(s <= layout.attention_res for s in level_sizes(image_size)),
            num_res_blocks=layout.res_blocks,
            norm_num_groups=math.gcd(MAX_NORM_GROUPS, width),
            num_head_channels=tuple(math.gcd(MAX_HEAD_CHANNELS, c) for c in chans),
            num_class_embeds=num_class_embeds,
        )
