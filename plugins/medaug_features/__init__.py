"""medaug's feature extractors for ``medaug audit`` (FID, KID, precision/recall, copies).

- ``domain``: a small autoencoder medaug trains on the real images being audited
  (deterministic, cached by the images' fingerprint; no weights needed) - the default;
- ``timm:<model>``: any timm model's pooled features, weights from ``--weights FILE``;
- ``torchvision:<model>``: any torchvision classifier's penultimate features, weights from
  ``--weights FILE`` (a torchxrayvision-style one-channel DenseNet fits
  ``torchvision:densenet121``).

Nothing is downloaded: a backbone without ``--weights`` is a one-line error.
"""

from __future__ import annotations

import medaug
from medaug_features.backbones import TimmExtractor, TorchvisionExtractor
from medaug_features.domain import DomainExtractor

__all__ = [
    "DomainExtractor",
    "TimmExtractor",
    "TorchvisionExtractor",
    "register_feature_extractors",
]


@medaug.hookimpl
def register_feature_extractors(register: medaug.hookspecs.Register) -> None:
    """Register ``domain``, ``timm:<model>`` and ``torchvision:<model>``."""
    register("domain", DomainExtractor)
    register(
        "timm",
        TimmExtractor,
        variants=True,
        description="Any timm model, e.g. timm:resnet18 --weights FILE (local weights only)",
    )
    register(
        "torchvision",
        TorchvisionExtractor,
        variants=True,
        description="Any torchvision classifier, e.g. torchvision:densenet121 --weights FILE",
    )
