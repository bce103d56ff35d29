"""Contract checks for classifier plugins (:class:`medaug.contracts.classifier`).

Each check builds networks through :func:`medaug.create_classifier` at 32 px on the CPU.
A family registered with ``variants=True`` is checked through concrete names
(``timm:resnet18``).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Mapping
from functools import partial
from typing import Any

import torch
from torch import nn

from medaug.errors import MedaugError
from medaug.plugins import create_classifier
from medaug.testing.check import Check, expect, expect_raises

SIZE = 32

ClassifierCheck = Callable[[str, Mapping[str, Any]], None]


def _build(name: str, options: Mapping[str, Any], in_chans: int, num_classes: int) -> nn.Module:
    return create_classifier(
        name, num_classes=num_classes, in_chans=in_chans, image_size=SIZE, **options
    )


def check_forward_backward_shapes_finite(name: str, options: Mapping[str, Any]) -> None:
    """``(N, C, 32, 32)`` gives logits ``(N, num_classes)``, for 1 channel / 2 classes and
    3 channels / 3 classes; logits and gradients are finite and not all zero."""
    for in_chans, num_classes in ((1, 2), (3, 3)):
        torch.manual_seed(0)
        model = _build(name, options, in_chans, num_classes).train()
        logits = model(torch.randn(4, in_chans, SIZE, SIZE))
        expect(
            tuple(logits.shape) == (4, num_classes),
            f"in_chans={in_chans}: logits {tuple(logits.shape)}, expected (4, {num_classes})",
        )
        expect(bool(torch.isfinite(logits).all()), f"in_chans={in_chans}: non-finite logits")
        loss = nn.functional.cross_entropy(logits, torch.arange(4) % num_classes)
        loss.backward()
        grads = [p.grad for p in model.parameters() if p.requires_grad]
        expect(grads, "the network has no trainable parameters")
        expect(
            all(g is not None and bool(torch.isfinite(g).all()) for g in grads),
            "missing or non-finite gradients",
        )
        expect(any(float(g.abs().sum()) > 0 for g in grads if g is not None), "all gradients are 0")


def check_eval_deterministic_and_state_round_trip(name: str, options: Mapping[str, Any]) -> None:
    """``eval()`` outputs repeat exactly, and a ``weights_only`` round trip of
    ``state_dict`` loads into a network rebuilt with the same options."""
    model = _build(name, options, 1, 2).eval()
    x = torch.randn(3, 1, SIZE, SIZE)
    with torch.no_grad():
        a, b = model(x), model(x)
    expect(torch.equal(a, b), "eval() outputs differ between two calls")
    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    buf.seek(0)
    try:
        state = torch.load(buf, weights_only=True)
    except Exception as exc:
        raise AssertionError(f"state_dict does not load with weights_only=True: {exc}") from exc
    clone = _build(name, options, 1, 2).eval()
    clone.load_state_dict(state)
    with torch.no_grad():
        expect(torch.allclose(clone(x), a, atol=1e-6), "a rebuilt network with the state differs")


def check_unknown_option_is_a_medaug_error(name: str, options: Mapping[str, Any]) -> None:
    """An unknown option is a :class:`MedaugError`, never a ``TypeError`` traceback."""
    expect_raises(
        MedaugError,
        lambda: _build(name, {**options, "no_such_option_xyz": 1}, 1, 2),
        "an unknown option",
    )


CHECKS: tuple[ClassifierCheck, ...] = (
    check_forward_backward_shapes_finite,
    check_eval_deterministic_and_state_round_trip,
    check_unknown_option_is_a_medaug_error,
)


def classifier_checks(name: str, **options: Any) -> Iterator[Check]:
    """The classifier contract checks for ``name`` (a concrete ``family:variant`` for
    families); ``options`` go to every factory call."""
    for func in CHECKS:
        check = func.__name__.removeprefix("check_")
        yield Check("classifier", name, check, partial(func, name, dict(options)))
