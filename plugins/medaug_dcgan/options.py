"""The ``dcgan`` plugin's options (``-O key=value``): presets, defaults and validation.

A preset fills in every training option; options given next to it override it.
``preset=paper`` is the plain DCGAN of Radford et al. / pytorch/examples exactly as
medaug 0.1.0 trained it. ``preset=compact`` (the default) is the same DCGAN at half the
width (ngf = ndf = 32) sampled from an exponential moving average of G's weights: in the
same time budget it takes about 3.5x the steps, and it measured best in
``benchmarks/generator_ablation.py`` (FID 38 against the paper's 239 on the 1,349
ChestXray2017 Normal images, 45 against 389 on 100 of them; ``docs/generators.md``).
``preset=small-data`` is the data-efficient recipe of the literature (DiffAugment,
spectral norm, hinge loss, two time-scale learning rates, EMA): it measured worse at
these budgets, and stays available, as does each option on its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from medaug.errors import MedaugError
from medaug.plugin_kit.options import as_bool, as_float, as_int, check_known
from medaug.precision import check_precision
from medaug_dcgan.diffaugment import canonical_policy
from medaug_dcgan.losses import LOSSES

#: options a preset sets; everything else has one default whatever the preset
PRESETS: dict[str, dict[str, Any]] = {
    "paper": {
        "ngf": 64,
        "ndf": 64,
        "loss": "bce",
        "lr": 2e-4,
        "lr_d": None,  # None: the same as lr
        "beta1": 0.5,
        "beta2": 0.999,
        "spectral_norm": False,
        "diffaugment": "none",
        "ema": 0.0,
        "precision": "fp32",  # the paper's maths (and medaug 0.1.0's bits) on every device
    },
    "small-data": {
        "ngf": 32,
        "ndf": 32,
        "loss": "hinge",
        "lr": 1e-4,
        "lr_d": 4e-4,
        "beta1": 0.0,
        "beta2": 0.999,
        "spectral_norm": True,
        "diffaugment": "translation,cutout",
        "ema": 0.999,
        "precision": "auto",
    },
    "compact": {
        "ngf": 32,
        "ndf": 32,
        "loss": "bce",
        "lr": 2e-4,
        "lr_d": None,
        "beta1": 0.5,
        "beta2": 0.999,
        "spectral_norm": False,
        "diffaugment": "none",
        "ema": 0.999,
        "precision": "auto",
    },
}
DEFAULT_PRESET = "compact"

#: each data-efficient option as it is measured when turned on alone (the ablation's
#: rows in ``benchmarks/generator_ablation.py`` and ``benchmarks/dcgan_throughput.py``)
OPTION_TRIALS: dict[str, dict[str, Any]] = {
    "diffaugment": {"diffaugment": "translation,cutout"},
    "ema": {"ema": 0.999},
    "spectral_norm": {"spectral_norm": True},
    "hinge": {"loss": "hinge"},
    "ttur": {"lr": 1e-4, "lr_d": 4e-4},
    "width": {"ngf": 32, "ndf": 32},
}

#: every option and its default (preset-dependent ones from the default preset)
DEFAULTS: dict[str, Any] = {
    "preset": DEFAULT_PRESET,
    "nz": 100,
    **PRESETS[DEFAULT_PRESET],
    "conditional": False,  # one model for all classes (projection D, class-conditional BN)
    "channels_last": "auto",  # auto = on CUDA and CPU (measured ~1.1x on CPU)
    "compile": False,  # torch.compile the networks (slow start, faster steps)
    "sync_every": 16,  # steps between host syncs for loss reporting
}


def check_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """The effective options: the preset's values, overridden by ``options``, checked.

    Raises :class:`MedaugError` for an unknown option or a bad value. The result is
    plain JSON values and rebuilds the same model when passed back.
    """
    check_known("dcgan", options, DEFAULTS, legacy=("amp",))
    preset = str(options.get("preset", DEFAULT_PRESET))
    if preset not in PRESETS:
        raise MedaugError(
            f"dcgan option 'preset' must be one of {', '.join(PRESETS)}; got {preset!r}"
        )
    opts = {**DEFAULTS, **PRESETS[preset], **options, "preset": preset}
    for key in ("nz", "ngf", "ndf", "sync_every"):
        opts[key] = as_int("dcgan", key, opts[key], 1)
    if opts["lr_d"] is None or str(opts["lr_d"]).lower() in ("none", "null"):
        opts["lr_d"] = opts["lr"]
    for key in ("lr", "lr_d", "beta1", "beta2", "ema"):
        opts[key] = as_float("dcgan", key, opts[key])
    if not (opts["lr"] > 0 and opts["lr_d"] > 0):
        raise MedaugError("dcgan options lr and lr_d must be > 0")
    if not (0 <= opts["beta1"] < 1 and 0 <= opts["beta2"] < 1):
        raise MedaugError("dcgan options need 0 <= beta1, beta2 < 1")
    if not 0 <= opts["ema"] < 1:
        raise MedaugError(f"dcgan option 'ema' must be in [0, 1) (0 = off), got {opts['ema']}")
    opts["loss"] = str(opts["loss"]).lower()
    if opts["loss"] not in LOSSES:
        raise MedaugError(
            f"dcgan option 'loss' must be one of {', '.join(LOSSES)}; got {opts['loss']!r}"
        )
    opts["diffaugment"] = canonical_policy(opts["diffaugment"])
    # older medaug took a boolean ``amp`` (still read from saved states and -O): false is
    # fp32, true the preset's precision
    amp = opts.pop("amp", True)
    if "precision" not in options and not as_bool("dcgan", "amp", amp):
        opts["precision"] = "fp32"
    opts["precision"] = check_precision(opts["precision"], "dcgan option 'precision'")
    for key in ("spectral_norm", "conditional", "compile"):
        opts[key] = as_bool("dcgan", key, opts[key])
    if str(opts["channels_last"]).lower() != "auto":
        opts["channels_last"] = as_bool("dcgan", "channels_last", opts["channels_last"])
    else:
        opts["channels_last"] = "auto"
    return opts
