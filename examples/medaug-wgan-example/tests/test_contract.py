"""medaug's generator contract, run on this plugin with the checks medaug ships.

Run after ``pip install -e .`` (the plugin must be discoverable through its entry point)::

    pytest tests/
"""

from __future__ import annotations

import pytest

import medaug
from medaug.testing import Check, parametrize_with_checks

#: small networks, so every check runs in a second or two on a CPU
SMALL = {"width": 8, "nz": 8, "n_critic": 2}


@parametrize_with_checks("generator", ["wgan-gp"], **SMALL)
def test_medaug_contract(check: Check) -> None:
    check()


def test_unsupported_size_is_a_clear_error() -> None:
    with pytest.raises(medaug.MedaugError, match="supports image sizes 16, 32, 64, 128, 256"):
        medaug.create_generator("wgan-gp", image_size=48, channels=1, **SMALL)
