"""Whether the optional diffusion dependencies are importable, without importing them."""

from __future__ import annotations

import importlib.util

INSTALL_HINT = 'pip install "medaug[diffusion]"'
#: modules ddpm imports: MONAI, and einops, which MONAI's attention blocks need
REQUIRED_MODULES = ("monai", "einops")


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def missing_requirements() -> str | None:
    """``None`` when ddpm can be built, else a one-line reason naming what to install.

    Looks modules up with :func:`importlib.util.find_spec` (an entry ``None`` in
    ``sys.modules`` counts as missing), so nothing heavy is imported.
    """
    missing = [m for m in REQUIRED_MODULES if not _importable(m)]
    if not missing:
        return None
    names = " and ".join(missing)
    return f"not available: needs {names}; install with {INSTALL_HINT}"
