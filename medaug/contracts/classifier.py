"""The classifier contract: a plugin builds an image classification network.

Training, evaluation and experiments are the core's job; a classifier plugin only
builds the network::

    @medaug.hookimpl
    def register_classifiers(register):
        register("simple-cnn", build_simple_cnn)
        register("timm", build_timm_model, variants=True)   # timm:resnet18, ...

The returned :class:`torch.nn.Module` maps a float32 batch ``(N, in_chans, H, W)``
(``H == W == image_size``, values normalised per channel with the training set's mean
and standard deviation) to logits ``(N, num_classes)``. It must work on CPU and CUDA and
must never download anything: ``pretrained=True`` either loads locally cached weights or
raises :class:`medaug.MedaugError` saying that the weights are not cached.

Rules the core relies on:

- the same factory call (same options) builds the same architecture, so a saved
  ``state_dict`` loads into a rebuilt model (``medaug evaluate`` rebuilds models this way
  from the name and options stored in ``model.pt``);
- options are plain JSON-like values (numbers, strings, booleans, lists, dicts): they are
  stored in ``model.pt``, which loads with ``torch.load(weights_only=True)``;
- unknown options raise :class:`medaug.MedaugError` with a clear message: the registry
  does it for a factory with a fixed signature (checked before the call, listing the
  valid options); a factory taking ``**options`` validates them itself;
- ``pretrained`` is only passed when the user asked for it.

:func:`medaug.create_classifier` returns a :class:`torch.nn.Module` or raises
:class:`medaug.MedaugError` naming the plugin. Every registered classifier is exercised by
``tests/classifiers`` through :mod:`medaug.testing` (forward, backward, shapes, finite
values at 32 px, state round trip) without new test code; a plugin's own tests run the
same checks.
"""

from __future__ import annotations

from typing import Any, Protocol

from torch import nn


class ClassifierFactory(Protocol):
    """Builds a classification network.

    Families registered with ``variants=True`` (``timm:<model>``) also receive
    ``variant="<model>"``.
    """

    def __call__(
        self,
        *,
        num_classes: int,
        in_chans: int,
        image_size: int,
        pretrained: bool = False,
        **options: Any,
    ) -> nn.Module: ...
