"""``ddpm`` plugin options (``-O key=value``): defaults and validation.

Kept free of torch and MONAI imports so a bad option is reported before anything
heavy loads. Command-line values arrive parsed as JSON when possible, so booleans may
also come as strings such as ``"true"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from medaug.errors import MedaugError
from medaug.plugin_kit.options import as_bool, as_float, as_int, check_known
from medaug.precision import check_precision

#: image sizes the UNet is built for (one resolution level per factor of two above 8 px)
SUPPORTED_SIZES: tuple[int, ...] = (16, 32, 64, 128, 256)
#: MONAI noise schedules (``monai.networks.schedulers.NoiseSchedules``) offered here
SCHEDULES: tuple[str, ...] = ("linear_beta", "scaled_linear_beta", "sigmoid_beta", "cosine")

#: plugin options and their defaults
DEFAULTS: dict[str, Any] = {
    "width": 32,  # UNet channels at full resolution (doubling down to 4x at 8-16 px)
    "res_blocks": 1,  # residual blocks per UNet level
    "attention_res": 16,  # self-attention at levels of this many px and below (0: bottleneck)
    "timesteps": 1000,  # diffusion steps of the DDPM noise schedule (Ho et al.)
    "schedule": "linear_beta",  # beta 1e-4 .. 0.02 (Ho et al.)
    "lr": 2e-4,  # Adam learning rate (Ho et al., CIFAR-10)
    "grad_clip": 1.0,  # gradient-norm clipping (Ho et al.); 0 turns it off
    "ema_decay": 0.999,  # EMA of the weights used for sampling (with warm-up)
    "sample_steps": 25,  # DDIM steps per sample (docs/generators.md: chosen by measurement)
    "conditional": False,  # one class-conditional model for all classes
    "guidance": 1.3,  # classifier-free guidance scale (1 = none; conditional only)
    "cond_drop": 0.1,  # label dropout for classifier-free guidance (conditional only)
    "precision": "auto",  # auto|fp32|bf16|fp16 (medaug.precision: bf16 on CUDA and AMX CPUs)
    "channels_last": "auto",  # auto = on CUDA only (no gain measured on the CPU)
    "sync_every": 16,  # steps between host syncs for loss reporting
}


def check_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """The effective options (defaults filled in), or a :class:`MedaugError` naming the
    bad one and the valid ones."""
    check_known("ddpm", options, DEFAULTS, legacy=("amp",))
    opts = {**DEFAULTS, **options}
    opts["width"] = as_int("ddpm", "width", opts["width"], 4)
    opts["res_blocks"] = as_int("ddpm", "res_blocks", opts["res_blocks"], 1)
    opts["attention_res"] = as_int("ddpm", "attention_res", opts["attention_res"], 0)
    opts["timesteps"] = as_int("ddpm", "timesteps", opts["timesteps"], 2)
    opts["sample_steps"] = as_int("ddpm", "sample_steps", opts["sample_steps"], 1)
    opts["sync_every"] = as_int("ddpm", "sync_every", opts["sync_every"], 1)
    if opts["sample_steps"] > opts["timesteps"]:
        raise MedaugError(
            f"ddpm option 'sample_steps' ({opts['sample_steps']}) cannot exceed "
            f"'timesteps' ({opts['timesteps']})"
        )
    if opts["schedule"] not in SCHEDULES:
        raise MedaugError(
            f"ddpm option 'schedule' must be one of {', '.join(SCHEDULES)}, "
            f"got {opts['schedule']!r}"
        )
    opts["lr"] = as_float("ddpm", "lr", opts["lr"], 0.0)
    if opts["lr"] == 0:
        raise MedaugError("ddpm option 'lr' must be > 0")
    opts["grad_clip"] = as_float("ddpm", "grad_clip", opts["grad_clip"], 0.0)
    opts["ema_decay"] = as_float("ddpm", "ema_decay", opts["ema_decay"], 0.0, 1.0)
    opts["guidance"] = as_float("ddpm", "guidance", opts["guidance"], 0.0)
    opts["cond_drop"] = as_float("ddpm", "cond_drop", opts["cond_drop"], 0.0, 1.0)
    opts["conditional"] = as_bool("ddpm", "conditional", opts["conditional"])
    # older medaug took a boolean ``amp`` (still read from saved states and -O): false is fp32
    amp = opts.pop("amp", True)
    if "precision" not in options and not as_bool("ddpm", "amp", amp):
        opts["precision"] = "fp32"
    opts["precision"] = check_precision(opts["precision"], "ddpm option 'precision'")
    if str(opts["channels_last"]).strip().lower() == "auto":
        opts["channels_last"] = "auto"
    else:
        opts["channels_last"] = as_bool("ddpm", "channels_last", opts["channels_last"])
    return opts
