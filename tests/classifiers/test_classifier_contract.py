"""The classifier contract, checked for every registered classifier (timm's family
through a few variants). The checks live in :mod:`medaug.testing`: forward / backward at
32 px with 1 and 3 channels, finite logits and gradients, ``weights_only`` state round
trip, clear option errors."""

from __future__ import annotations

import medaug
from medaug.testing import Check, parametrize_with_checks

#: the variants tested for families registered as ``name:<variant>``
FAMILY_VARIANTS = {"timm": ("resnet18", "efficientnet_b0")}


def _classifier_names() -> list[str]:
    names: list[str] = []
    for name in medaug.list_classifiers():
        family, sep, _ = name.partition(":")
        if sep:
            names += [f"{family}:{v}" for v in FAMILY_VARIANTS.get(family, ())]
        else:
            names.append(name)
    return names


CLASSIFIERS = _classifier_names()


def test_first_party_classifiers_are_registered() -> None:
    assert "simple-cnn" in CLASSIFIERS
    assert "timm:resnet18" in CLASSIFIERS


def test_every_family_has_variants_to_test() -> None:
    families = [n.partition(":")[0] for n in medaug.list_classifiers() if ":" in n]
    assert all(FAMILY_VARIANTS.get(f) for f in families), f"add variants for {families}"


@parametrize_with_checks("classifier", CLASSIFIERS)
def test_classifier_contract(check: Check) -> None:
    check()
