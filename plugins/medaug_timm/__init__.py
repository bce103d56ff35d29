"""medaug plugin ``timm:<model>``: any model of the timm library as a classifier.

``timm:resnet18``, ``timm:densenet121``, ``timm:efficientnet_b0``... are built with
``in_chans`` from the data and ``num_classes`` from its classes. Weights are never
downloaded: ``pretrained=True`` works only when they are already in the local
Hugging Face / torch hub cache, otherwise :class:`medaug.MedaugError` says so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import medaug

if TYPE_CHECKING:
    from medaug.hookspecs import Register

__all__ = ["register_classifiers"]


@medaug.hookimpl
def register_classifiers(register: Register) -> None:
    """Register the ``timm`` family (``timm:<model name>``).

    The factory is imported on first use, so listing plugins needs no torch.
    """
    register(
        "timm",
        "medaug_timm.factory:build_timm_model",
        variants=True,
        description="Any timm model, e.g. timm:resnet18 (weights only from the local cache)",
    )
