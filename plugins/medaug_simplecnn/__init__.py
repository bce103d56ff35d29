"""medaug plugin ``simple-cnn``: a small CNN in the spirit of Karnati & Reddy's classifier.

The paper classifies ChestXray2017 films with a plain stack of convolution blocks
(convolution, batch normalisation, ReLU, pooling, dropout) ending in a dense head.
:class:`SimpleCNN` keeps that shape but ends in global average pooling, so it accepts
any input size and 1 or 3 channels.
"""

from __future__ import annotations

import medaug
from medaug_simplecnn.model import SimpleCNN, build_simple_cnn

__all__ = ["SimpleCNN", "build_simple_cnn", "register_classifiers"]


@medaug.hookimpl
def register_classifiers(register: medaug.hookspecs.Register) -> None:
    """Register ``simple-cnn``."""
    register("simple-cnn", build_simple_cnn)
