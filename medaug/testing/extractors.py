"""Contract checks for feature-extractor plugins (:mod:`medaug.contracts.features`).

Each check builds the extractor through :func:`medaug.create_feature_extractor` at 32 px,
one channel, on the CPU, and feeds it 16 smooth random images in ``[-1, 1]``. A trainable
extractor is fitted on them first (pass a short training in the options, such as
``steps=5``); one that needs a weights file gets it in the options (``weights=PATH``). A
family registered with ``variants=True`` is checked through a concrete name
(``timm:resnet18``).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator, Mapping
from functools import partial
from typing import Any

import torch

from medaug.contracts.features import FeatureExtractor
from medaug.errors import MedaugError
from medaug.plugins import create_feature_extractor
from medaug.testing.check import Check, expect, expect_raises

SIZE = 32
N_IMAGES = 16

ExtractorCheck = Callable[[str, Mapping[str, Any]], None]


def _images() -> torch.Tensor:
    """Smooth random images in ``[-1, 1]``, the same every call."""
    rng = torch.Generator().manual_seed(0)
    coarse = torch.rand(N_IMAGES, 1, SIZE // 4, SIZE // 4, generator=rng)
    fine = torch.nn.functional.interpolate(coarse, size=(SIZE, SIZE), mode="bilinear")
    return fine * 2 - 1


def _build(name: str, options: Mapping[str, Any]) -> FeatureExtractor:
    built = create_feature_extractor(name, image_size=SIZE, channels=1, device="cpu", **options)
    expect(isinstance(built, FeatureExtractor), f"built a {type(built).__name__}")
    return built


def _ready(name: str, options: Mapping[str, Any]) -> FeatureExtractor:
    extractor = _build(name, options)
    if extractor.trainable:
        extractor.fit(_images(), seed=0)
    return extractor


def _features(extractor: FeatureExtractor, images: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return extractor.module()(images.to(extractor.device)).float().cpu()


def check_features_shape_finite_and_repeatable(name: str, options: Mapping[str, Any]) -> None:
    """``module()`` is in eval mode with an ``int`` ``num_features``; it maps ``(N, 1, 32,
    32)`` images to finite ``(N, num_features)`` features, the same on a second call and
    whatever the batch."""
    extractor = _ready(name, options)
    module = extractor.module()
    expect(not module.training, "module() is in training mode")
    expect(
        getattr(module, "num_features", None) == extractor.num_features,
        "module() has no int num_features equal to the extractor's",
    )
    x = _images()
    first, again = _features(extractor, x), _features(extractor, x)
    expect(
        tuple(first.shape) == (N_IMAGES, extractor.num_features),
        f"features {tuple(first.shape)}, expected ({N_IMAGES}, {extractor.num_features})",
    )
    expect(bool(torch.isfinite(first).all()), "non-finite features")
    expect(torch.equal(first, again), "the same images gave different features")
    halves = torch.cat([_features(extractor, x[:5]), _features(extractor, x[5:])])
    expect(torch.allclose(halves, first, rtol=1e-4, atol=1e-5), "features depend on the batch")


def check_training_deterministic_and_state_round_trip(
    name: str, options: Mapping[str, Any]
) -> None:
    """A trainable extractor fitted twice with one seed gives the same features, and its
    state loads with ``weights_only=True`` into a fresh one that then gives them too;
    one that is not trainable has an empty state."""
    extractor = _ready(name, options)
    if not extractor.trainable:
        expect(extractor.state_dict() == {}, "an extractor that is not trainable has a state")
        return
    x = _images()
    features = _features(extractor, x)
    expect(
        torch.equal(_features(_ready(name, options), x), features),
        "fit with the same images and seed gave different features",
    )
    buf = io.BytesIO()
    torch.save(extractor.state_dict(), buf)
    buf.seek(0)
    try:
        state = torch.load(buf, weights_only=True)
    except Exception as exc:
        raise AssertionError(f"state_dict does not load with weights_only=True: {exc}") from exc
    restored = _build(name, options)
    restored.load_state_dict(state)
    expect(torch.equal(_features(restored, x), features), "a restored state gives other features")


def check_provenance_is_json(name: str, options: Mapping[str, Any]) -> None:
    """``describe()`` is JSON (it goes into every audit) and ``cache_token()`` a string."""
    extractor = _ready(name, options)
    try:
        json.dumps(extractor.describe())
    except (TypeError, ValueError) as exc:
        raise AssertionError(f"describe() is not JSON: {exc}") from exc
    expect(isinstance(extractor.cache_token(), str), "cache_token() is not a string")


def check_unknown_option_is_a_medaug_error(name: str, options: Mapping[str, Any]) -> None:
    """An unknown option is a :class:`MedaugError`, never a ``TypeError`` traceback."""
    expect_raises(
        MedaugError, lambda: _build(name, {**options, "no_such_option_xyz": 1}), "an unknown option"
    )


CHECKS: tuple[ExtractorCheck, ...] = (
    check_features_shape_finite_and_repeatable,
    check_training_deterministic_and_state_round_trip,
    check_provenance_is_json,
    check_unknown_option_is_a_medaug_error,
)


def extractor_checks(name: str, **options: Any) -> Iterator[Check]:
    """The feature-extractor contract checks for ``name`` (a concrete ``family:variant``
    for families); ``options`` go to every factory call."""
    for func in CHECKS:
        check = func.__name__.removeprefix("check_")
        yield Check("feature_extractor", name, check, partial(func, name, dict(options)))


__all__ = ["CHECKS", "extractor_checks"]
