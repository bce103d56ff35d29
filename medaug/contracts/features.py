"""The feature-extractor contract: images to feature vectors, for ``medaug audit``.

FID, KID, precision/recall, density/coverage, the classifier two-sample test and the
feature-space memorization screen all compare images through a feature extractor. A
plugin provides one by registering a factory::

    @medaug.hookimpl
    def register_feature_extractors(register):
        register("domain", DomainExtractor)                    # trained on the real images
        register("timm", TimmExtractor, variants=True)         # timm:resnet18 --weights FILE

The factory is called as ``Factory(image_size=..., channels=..., device=..., **options)``
(``weights=PATH`` among the options when the user gave ``--weights``) and returns a
:class:`FeatureExtractor`.

Tensor conventions:

- input images are ``float32`` ``(N, C, H, W)`` with ``H == W == image_size``,
  ``C == channels`` (1 or 3) and values in ``[-1, 1]``, on the extractor's ``device``;
- :meth:`FeatureExtractor.module` maps such a batch to ``(N, num_features)`` floats; it is
  in evaluation mode, has an ``int`` attribute ``num_features`` (torchmetrics reads it)
  and needs no gradient;
- the same images give the same features (no dropout, no randomness at inference).

Rules the core relies on:

- nothing is ever downloaded: weights come from local files only; an extractor that
  needs weights and got none raises :class:`medaug.MedaugError` saying so;
- a trainable extractor (:attr:`FeatureExtractor.trainable`) learns from the real images
  in :meth:`FeatureExtractor.fit`, deterministically in ``seed`` on the CPU; the core
  caches its :meth:`~FeatureExtractor.state_dict` by a fingerprint of those images and
  restores it with :meth:`~FeatureExtractor.load_state_dict`, so ``fit`` runs once per
  dataset. States must load with ``torch.load(weights_only=True)`` (tensors, numbers,
  strings, lists, dicts);
- :meth:`FeatureExtractor.describe` is JSON provenance recorded in every audit (weights
  file and its SHA-256, training settings...). Figures from different extractors, or
  from one extractor with different weights, are never comparable.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

import torch
from torch import nn


class FeatureExtractor(ABC):
    """Turns images into feature vectors.

    Constructed by its factory as ``Factory(image_size=..., channels=..., device=...,
    **options)``; unknown or invalid options raise :class:`medaug.MedaugError` with a
    clear one-line message.
    """

    #: learns from the real images: the core calls :meth:`fit` (or restores a cached state)
    trainable: ClassVar[bool] = False

    image_size: int
    channels: int
    device: torch.device

    @property
    @abstractmethod
    def num_features(self) -> int:
        """Length of one feature vector."""

    @abstractmethod
    def module(self) -> nn.Module:
        """The network mapping ``(N, C, H, W)`` images in ``[-1, 1]`` on :attr:`device` to
        ``(N, num_features)`` features; evaluation mode, ``num_features`` attribute set.
        Only valid after :meth:`fit` (or :meth:`load_state_dict`) for trainable ones."""

    def fit(self, images: torch.Tensor, *, seed: int) -> None:
        """Learn from ``images`` ``(N, C, H, W)`` in ``[-1, 1]`` (CPU tensors).

        Only trainable extractors implement it; the same images and ``seed`` give the
        same state on the same device.
        """
        raise NotImplementedError(f"{type(self).__name__} is not trainable")

    def state_dict(self) -> dict[str, Any]:
        """What :meth:`fit` learned (empty for extractors that are not trainable)."""
        return {}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore a state produced by :meth:`state_dict`."""
        if state:
            raise NotImplementedError(f"{type(self).__name__} has no state to load")

    def describe(self) -> dict[str, Any]:
        """JSON provenance: options, weights file and SHA-256, training settings."""
        return {}

    def cache_token(self) -> str:
        """A string that changes whenever an option changes what :meth:`fit` learns
        (part of the cache key, with the images' fingerprint and the seed)."""
        return type(self).__name__


__all__ = ["FeatureExtractor"]
