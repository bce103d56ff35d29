"""GAN losses on the discriminator's logits: ``(real, fake) -> loss_d`` and ``fake -> loss_g``.

``bce``   the original GAN loss with the non-saturating generator loss (Goodfellow et al.
          2014), as DCGAN trains it: ``BCE(D(x), 1) + BCE(D(G(z)), 0)`` and
          ``BCE(D(G(z)), 1)``.
``hinge`` the hinge loss of Lim & Ye (2017) and Miyato et al. (2018, with spectral
          normalisation): ``relu(1 - D(x)) + relu(1 + D(G(z)))`` and ``-D(G(z))``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

DLoss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
GLoss = Callable[[torch.Tensor], torch.Tensor]


def bce_d(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(
        real, torch.ones_like(real)
    ) + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake))


def bce_g(fake: torch.Tensor) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake))


def hinge_d(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()


def hinge_g(fake: torch.Tensor) -> torch.Tensor:
    return -fake.mean()


LOSSES: dict[str, tuple[DLoss, GLoss]] = {
    "bce": (bce_d, bce_g),
    "hinge": (hinge_d, hinge_g),
}
