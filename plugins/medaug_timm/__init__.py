"""medaug plugin ``timm:<model>``: any model of the timm library as a classifier.

``timm:resnet18``, ``timm:densenet121``, ``timm:efficientnet_b0``... are built with
``in_chans`` from the data and ``num_classes`` from its classes. Weights are never
downloaded: ``pretrained=True`` works only when they are already in the local
Hugging Face / torch hub cache, otherwise :class:`medaug.MedaugError` says so.
"""

from __future__ import annotations

import medaug
from medaug_timm.factory import build_timm_model

__all__ = ["build_timm_model", "register_classifiers"]


@medaug.hookimpl
def register_classifiers(register: medaug.hookspecs.Register) -> None:
    """Register the ``timm`` family (``timm:<model name>``)."""
    register(
        "timm",
        build_timm_model,
        variants=True,
        description="Any timm model, e.g. timm:resnet18 (weights only from the local cache)",
    )
