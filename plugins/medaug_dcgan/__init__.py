"""DCGAN generator plugin for medaug (Radford, Metz & Chintala, 2015, arXiv:1511.06434).

``-O preset=paper`` follows pytorch/examples ``dcgan/main.py``: z of 100 dims, ngf = ndf
= 64, Adam lr 2e-4, betas (0.5, 0.999), N(0, 0.02) init, non-saturating loss (here in its
logits form, ``BCEWithLogitsLoss``, so mixed precision works). The default preset,
``compact``, is that network at half width, sampled from an exponential moving average of
G's weights (measured best at equal time; ``medaug_dcgan.options``). Unlike the example,
the layer stack is built from the image size (any power of two >= 16; 32, 64, 128 and 256
documented).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import medaug

if TYPE_CHECKING:
    from medaug.hookspecs import Register

__all__ = ["register_generators"]


@medaug.hookimpl
def register_generators(register: Register) -> None:
    """Register ``dcgan``.

    The factory is imported on first use, so listing plugins needs no torch.
    """
    register(
        "dcgan",
        "medaug_dcgan.model:DCGAN",
        description="DCGAN (Radford et al. 2015), one model per class",
    )
