"""medaug plugin ``simple-cnn``: a small CNN in the spirit of Karnati & Reddy's classifier.

The paper classifies ChestXray2017 films with a plain stack of convolution blocks
(convolution, batch normalisation, ReLU, pooling, dropout) ending in a dense head.
:class:`SimpleCNN` keeps that shape but ends in global average pooling, so it accepts
any input size and 1 or 3 channels.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import medaug

if TYPE_CHECKING:
    from medaug.hookspecs import Register

__all__ = ["register_classifiers"]


@medaug.hookimpl
def register_classifiers(register: Register) -> None:
    """Register ``simple-cnn``.

    The factory is imported on first use, so listing plugins needs no torch.
    """
    register(
        "simple-cnn",
        "medaug_simplecnn.model:build_simple_cnn",
        description="A small CNN (conv blocks with BatchNorm, pooling, dropout, linear head).",
    )
