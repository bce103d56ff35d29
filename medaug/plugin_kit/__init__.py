"""What a generator plugin needs besides its networks, written once: medaug's own dcgan
and ddpm use it, and so can yours (``examples/medaug-wgan-example`` does).

- :mod:`~medaug.plugin_kit.options`: ``-O key=value`` values checked and converted
  (:func:`as_bool`, :func:`as_int`, :func:`as_float`, :func:`check_known`), every
  message naming the plugin and the option;
- :mod:`~medaug.plugin_kit.inputs`: the images and labels a ``fit`` receives
  (:func:`check_images`, :func:`check_labels`);
- :mod:`~medaug.plugin_kit.ema`: :class:`WeightEMA`, the moving average of a network's
  weights that samples are drawn from;
- :mod:`~medaug.plugin_kit.optim`: :func:`fused_adam`;
- :mod:`~medaug.plugin_kit.losses`: :class:`LossLog`, per-step losses kept on the device
  and handed to the engine's callback every few steps (one host sync each).

It depends on torch and :mod:`medaug.errors` only, and the core never imports it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from medaug.lazy import lazy_exports

#: name -> its module; imported on first use, so that checking options (which plugins
#: do before anything heavy loads) does not import torch
_EXPORTS: dict[str, str] = {
    "LossLog": "losses",
    "WeightEMA": "ema",
    "as_bool": "options",
    "as_float": "options",
    "as_int": "options",
    "check_images": "inputs",
    "check_known": "options",
    "check_labels": "inputs",
    "fused_adam": "optim",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_exports(__name__, _EXPORTS, globals())


if TYPE_CHECKING:
    from medaug.plugin_kit.ema import WeightEMA as WeightEMA
    from medaug.plugin_kit.inputs import check_images as check_images
    from medaug.plugin_kit.inputs import check_labels as check_labels
    from medaug.plugin_kit.losses import LossLog as LossLog
    from medaug.plugin_kit.optim import fused_adam as fused_adam
    from medaug.plugin_kit.options import as_bool as as_bool
    from medaug.plugin_kit.options import as_float as as_float
    from medaug.plugin_kit.options import as_int as as_int
    from medaug.plugin_kit.options import check_known as check_known
