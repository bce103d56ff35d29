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

from typing import TYPE_CHECKING

import medaug

if TYPE_CHECKING:
    from medaug.hookspecs import Register

__all__ = ["register_feature_extractors"]


@medaug.hookimpl
def register_feature_extractors(register: Register) -> None:
    """Register ``domain``, ``timm:<model>`` and ``torchvision:<model>``.

    The factories are imported on first use, so listing plugins needs no torch.
    """
    register(
        "domain",
        "medaug_features.domain:DomainExtractor",
        description="Autoencoder features trained on the real images being audited "
        "(no weights needed)",
    )
    register(
        "timm",
        "medaug_features.backbones:TimmExtractor",
        variants=True,
        description="Any timm model, e.g. timm:resnet18 --weights FILE (local weights only)",
    )
    register(
        "torchvision",
        "medaug_features.backbones:TorchvisionExtractor",
        variants=True,
        description="Any torchvision classifier, e.g. torchvision:densenet121 --weights FILE",
    )
