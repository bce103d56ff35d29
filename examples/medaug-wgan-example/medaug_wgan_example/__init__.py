"""A small WGAN-GP generator plugin for medaug (Gulrajani et al., 2017).

This module is the whole registration. The model lives in :mod:`medaug_wgan_example.model`
and is registered by reference (``"module:Class"``), so medaug imports it, and torch,
only when ``wgan-gp`` is used: ``medaug --help`` and ``medaug plugins`` stay fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import medaug

if TYPE_CHECKING:
    from medaug.hookspecs import Register

__version__ = "0.1.0"


@medaug.hookimpl
def register_generators(register: Register) -> None:
    """Register ``wgan-gp``."""
    register(
        "wgan-gp",
        "medaug_wgan_example.model:WGANGP",
        description="WGAN with gradient penalty (example third-party plugin).",
    )
