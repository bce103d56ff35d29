"""DCGAN generator and discriminator networks, with the layer stack computed from the size.

At 64 px they are exactly the pytorch/examples networks. Each factor of two in image size
adds (or removes) one stride-2 block; feature widths double per block down the pyramid and
are capped at ``8 * ngf`` / ``8 * ndf`` (the 64 px widths) so 128 and 256 px stay tractable.
"""

from __future__ import annotations

import itertools
import math

import torch
from torch import nn

MAX_WIDTH_MULT = 8


def num_blocks(image_size: int) -> int:
    """Stride-2 blocks between the 4x4 base and ``image_size`` (4 at 64 px)."""
    if image_size < 16 or image_size & (image_size - 1):
        raise ValueError(f"image size must be a power of two >= 16, got {image_size}")
    return int(math.log2(image_size)) - 2


def _widths(base: int, blocks: int) -> list[int]:
    """Feature widths from the highest resolution layer to the 4x4 one."""
    return [base * min(2**i, MAX_WIDTH_MULT) for i in range(blocks)]


class DCGANGenerator(nn.Sequential):
    """z ``(N, nz, 1, 1)`` -> image ``(N, channels, S, S)`` in ``[-1, 1]``.

    ConvTranspose(4, 1, 0) to 4x4, then ConvTranspose(4, 2, 1) + BatchNorm + ReLU blocks,
    the last one to ``channels`` with Tanh.
    """

    def __init__(self, image_size: int, channels: int, nz: int = 100, ngf: int = 64) -> None:
        blocks = num_blocks(image_size)
        widths = _widths(ngf, blocks)[::-1]  # 4x4 layer first
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(nz, widths[0], 4, 1, 0, bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(True),
        ]
        for w_in, w_out in itertools.pairwise(widths):
            layers += [
                nn.ConvTranspose2d(w_in, w_out, 4, 2, 1, bias=False),
                nn.BatchNorm2d(w_out),
                nn.ReLU(True),
            ]
        layers += [nn.ConvTranspose2d(widths[-1], channels, 4, 2, 1, bias=False), nn.Tanh()]
        super().__init__(*layers)
        self.nz = nz


class DCGANDiscriminator(nn.Sequential):
    """Image ``(N, channels, S, S)`` -> one real/fake logit per image ``(N,)``.

    Conv(4, 2, 1) + LeakyReLU(0.2) (no BatchNorm on the first layer), Conv + BatchNorm +
    LeakyReLU blocks down to 4x4, then Conv(4, 1, 0) to a logit (no Sigmoid: the loss is
    ``BCEWithLogitsLoss``).
    """

    def __init__(self, image_size: int, channels: int, ndf: int = 64) -> None:
        blocks = num_blocks(image_size)
        widths = _widths(ndf, blocks)
        layers: list[nn.Module] = [
            nn.Conv2d(channels, widths[0], 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
        ]
        for w_in, w_out in itertools.pairwise(widths):
            layers += [
                nn.Conv2d(w_in, w_out, 4, 2, 1, bias=False),
                nn.BatchNorm2d(w_out),
                nn.LeakyReLU(0.2, inplace=True),
            ]
        layers += [nn.Conv2d(widths[-1], 1, 4, 1, 0, bias=False), nn.Flatten(0)]
        super().__init__(*layers)


def init_weights(module: nn.Module, generator: torch.Generator | None = None) -> None:
    """DCGAN init: conv weights N(0, 0.02); BatchNorm weights N(1, 0.02), biases 0."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d | nn.ConvTranspose2d):
            nn.init.normal_(m.weight, 0.0, 0.02, generator=generator)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02, generator=generator)
            nn.init.zeros_(m.bias)
            m.reset_running_stats()
