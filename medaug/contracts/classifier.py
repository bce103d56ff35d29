"""The classifier contract: a plugin builds an image classification network.

Training, evaluation and experiments are the core's job; a classifier plugin only
builds the network::

    @medaug.hookimpl
    def register_classifiers(register):
        register("simple-cnn", build_simple_cnn)
        register("timm", build_timm_model, variants=True)   # timm:resnet18, ...

The returned :class:`torch.nn.Module` maps a float32 batch ``(N, in_chans, H, W)``
(``H == W == image_size``, values normalised to roughly zero mean / unit variance) to
logits ``(N, num_classes)``. It must work on CPU and CUDA and must never download
anything: ``pretrained=True`` either loads locally cached weights or raises
:class:`medaug.MedaugError` saying that the weights are not cached.
"""

from __future__ import annotations

from typing import Any, Protocol

from torch import nn


class ClassifierFactory(Protocol):
    """Builds a classification network."""

    def __call__(
        self,
        *,
        num_classes: int,
        in_chans: int,
        image_size: int,
        pretrained: bool = False,
        **options: Any,
    ) -> nn.Module: ...
