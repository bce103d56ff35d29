"""The generator contract, checked for every registered generator (timm-style).

A new generator plugin is tested here with no new test code: the checks live in
:mod:`medaug.testing` (shapes, value range, determinism by seed, fit callbacks,
``weights_only`` state and bit-exact resume, option round trip, clear option errors),
so third-party plugins run exactly the same ones.
"""

from __future__ import annotations

import pytest

import medaug
from medaug.testing import Check, parametrize_with_checks

NAMES = medaug.list_generators()


def test_first_party_generators_are_registered() -> None:
    assert "dcgan" in NAMES


@pytest.mark.slow
@parametrize_with_checks("generator", NAMES)
def test_generator_contract(check: Check) -> None:
    check()
