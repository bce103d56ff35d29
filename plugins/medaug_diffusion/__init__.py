"""DDPM diffusion generator plugin for medaug, built on MONAI.

Denoising diffusion probabilistic models (Ho, Jain & Abbeel, 2020, arXiv:2006.11239)
trained with the noise-prediction objective, sampled with DDIM (Song, Meng & Ermon,
2020, arXiv:2010.02502) and, with ``-O conditional=true``, one class-conditional model
with classifier-free guidance (Ho & Salimans, 2022, arXiv:2207.12598). The network
(``monai.networks.nets.DiffusionModelUNet``), the noise schedules and the DDIM steps
(``monai.networks.schedulers``) and the training / sampling loops
(``monai.inferers.DiffusionInferer``) are MONAI's.

MONAI is an optional extra (``pip install "medaug[diffusion]"``). ``ddpm`` is registered
either way, without importing MONAI or torch: without it, ``medaug plugins`` says what to
install and building ``ddpm`` is one :class:`medaug.MedaugError` saying the same.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import medaug
from medaug_diffusion.requirements import missing_requirements

if TYPE_CHECKING:
    from medaug.hookspecs import Register

__all__ = ["register_generators"]

DESCRIPTION = (
    "DDPM diffusion (Ho et al. 2020) on MONAI's UNet, DDIM sampling; "
    "-O conditional=true: one guided model for all classes"
)


@medaug.hookimpl
def register_generators(register: Register) -> None:
    """Register ``ddpm`` (lazily: the factory module is imported on first use)."""
    problem = missing_requirements()
    register(
        "ddpm",
        "medaug_diffusion.factory:build_ddpm",
        description=DESCRIPTION if problem is None else f"DDPM diffusion ({problem})",
    )
