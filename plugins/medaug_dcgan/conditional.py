"""Class-conditional DCGAN networks: one model for every class of a dataset.

The generator is the DCGAN generator with class-conditional BatchNorm (each class has
its own BatchNorm scale and shift; de Vries et al. 2017, Miyato & Koyama 2018). The
discriminator is the DCGAN discriminator with a projection head (Miyato & Koyama,
"cGANs with Projection Discriminator", ICLR 2018, arXiv:1802.05637): the logit is
``psi(phi(x)) + <embed(y), sum_pool(phi(x))>``, where ``phi`` are its last features.
"""

from __future__ import annotations

import itertools

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm as _spectral_norm

from medaug_dcgan.networks import (
    ConditionalBatchNorm2d,
    DCGANDiscriminator,
    _widths,
    num_blocks,
)


class ConditionalDCGANGenerator(nn.Module):
    """``(z (N, nz, 1, 1), y (N,))`` -> image ``(N, channels, S, S)`` in ``[-1, 1]``.

    The DCGAN layer stack (see :class:`medaug_dcgan.networks.DCGANGenerator`) with
    :class:`ConditionalBatchNorm2d` in place of BatchNorm.
    """

    def __init__(
        self, image_size: int, channels: int, num_classes: int, nz: int = 100, ngf: int = 64
    ) -> None:
        super().__init__()
        widths = _widths(ngf, num_blocks(image_size))[::-1]
        self.convs = nn.ModuleList(
            [nn.ConvTranspose2d(nz, widths[0], 4, 1, 0, bias=False)]
            + [nn.ConvTranspose2d(a, b, 4, 2, 1, bias=False) for a, b in itertools.pairwise(widths)]
        )
        self.norms = nn.ModuleList([ConditionalBatchNorm2d(w, num_classes) for w in widths])
        self.to_image = nn.ConvTranspose2d(widths[-1], channels, 4, 2, 1, bias=False)
        self.nz = nz
        self.num_classes = num_classes

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        x = z
        for conv, norm in zip(self.convs, self.norms, strict=True):
            x = torch.relu(norm(conv(x), y))
        return torch.tanh(self.to_image(x))


class ProjectionDiscriminator(nn.Module):
    """``(image (N, channels, S, S), y (N,))`` -> one real/fake logit per image ``(N,)``."""

    def __init__(
        self,
        image_size: int,
        channels: int,
        num_classes: int,
        ndf: int = 64,
        *,
        spectral_norm: bool = False,
    ) -> None:
        super().__init__()
        self.body = DCGANDiscriminator(image_size, channels, ndf, spectral_norm=spectral_norm)
        embed = nn.Embedding(num_classes, self.body.feature_width)
        self.embed = _spectral_norm(embed) if spectral_norm else embed
        self.num_classes = num_classes

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        h = self.body.features(x)
        projection = (self.embed(y) * h.sum(dim=(2, 3))).sum(dim=1)
        return self.body.logit(h) + projection
