"""Contract checks for generator plugins (:class:`medaug.contracts.generator.Generator`).

Each check builds fresh generators through :func:`medaug.create_generator` at the
smallest supported size (16 px when none are declared), on the CPU, so a plugin's own
test suite runs them in seconds.
"""

from __future__ import annotations

import io
import unittest
from collections.abc import Callable, Iterator, Mapping
from functools import partial
from typing import Any

import torch

from medaug.contracts.generator import Generator
from medaug.errors import MedaugError
from medaug.plugins import create_generator, registry
from medaug.testing.check import Check, expect, expect_raises

DEFAULT_SIZE = 16
N_TRAIN = 12
BATCH = 4

GeneratorCheck = Callable[[str, Mapping[str, Any]], None]


def _size(name: str, options: Mapping[str, Any]) -> int:
    if "image_size" in options:
        return int(options["image_size"])
    sizes = registry("generator").get(name).attribute("supported_sizes", ())
    return min(sizes) if sizes else DEFAULT_SIZE


def _build(name: str, options: Mapping[str, Any], channels: int = 1) -> Generator:
    opts = {k: v for k, v in options.items() if k not in ("image_size", "channels")}
    return create_generator(
        name,
        image_size=_size(name, options),
        channels=channels,
        device="cpu",
        num_classes=2,
        **opts,
    )


def _data(gen: Generator, n: int = N_TRAIN) -> tuple[torch.Tensor, torch.Tensor | None]:
    g = torch.Generator().manual_seed(0)
    x = torch.rand(n, gen.channels, gen.image_size, gen.image_size, generator=g) * 2 - 1
    return x, (torch.arange(n) % 2 if gen.conditional else None)


def _labels(gen: Generator, n: int) -> torch.Tensor | None:
    return torch.zeros(n, dtype=torch.long) if gen.conditional else None


def _roundtrip(value: Any) -> Any:
    """``value`` after ``torch.save`` / ``torch.load(weights_only=True)``."""
    buf = io.BytesIO()
    torch.save(value, buf)
    buf.seek(0)
    return torch.load(buf, weights_only=True)


def _check_images(out: torch.Tensor, n: int, gen: Generator, what: str) -> None:
    shape = (n, gen.channels, gen.image_size, gen.image_size)
    expect(tuple(out.shape) == shape, f"{what}: shape {tuple(out.shape)}, expected {shape}")
    expect(out.dtype == torch.float32, f"{what}: dtype {out.dtype}, expected float32")
    expect(out.device.type == "cpu", f"{what}: returned on {out.device}, expected the CPU")
    expect(bool(torch.isfinite(out).all()), f"{what}: NaN or inf values")
    if out.numel():
        lo, hi = float(out.min()), float(out.max())
        expect(lo >= -1.0 and hi <= 1.0, f"{what}: values in [{lo}, {hi}], expected [-1, 1]")


class _Recorder:
    """A FitCallback that records what it receives."""

    def __init__(self) -> None:
        self.steps: list[tuple[int, int, int]] = []
        self.epochs: list[int] = []
        self.losses: list[dict[str, float]] = []

    def on_step(self, epoch: int, step: int, steps: int, losses: Mapping[str, float]) -> None:
        self.steps.append((epoch, step, steps))
        self.losses.append(dict(losses))

    def on_epoch_end(self, epoch: int, losses: Mapping[str, float]) -> None:
        self.epochs.append(epoch)


def check_sample_shape_range_and_finite(name: str, options: Mapping[str, Any]) -> None:
    """``sample`` gives ``(n, C, H, W)`` float32 CPU images in [-1, 1], for 1 and 3
    channels, and ``n = 0`` works."""
    for channels in (1, 3):
        gen = _build(name, options, channels)
        sizes = type(gen).supported_sizes
        expect(not sizes or gen.image_size in sizes, f"image_size {gen.image_size} not in {sizes}")
        expect(gen.channels == channels, f"channels is {gen.channels}, expected {channels}")
        _check_images(gen.sample(5, seed=0, labels=_labels(gen, 5)), 5, gen, "sample(5)")
        empty = gen.sample(0, seed=0, labels=_labels(gen, 0))
        expect(empty.shape[0] == 0, f"sample(0) returned {empty.shape[0]} images")


def check_fit_reports_every_step_once(name: str, options: Mapping[str, Any]) -> None:
    """``fit`` reports each step once, in order, then each epoch; losses stay finite;
    fitting to an epoch count already reached does nothing."""
    gen = _build(name, options)
    x, labels = _data(gen)
    rec = _Recorder()
    gen.fit(x, epochs=2, batch_size=BATCH, seed=0, labels=labels, callback=rec)
    expect(gen.epochs_done == 2, f"epochs_done is {gen.epochs_done} after 2 epochs")
    expect(rec.epochs == [0, 1], f"on_epoch_end got {rec.epochs}, expected [0, 1]")
    expect(rec.steps, "on_step was never called")
    steps = rec.steps[0][2]
    expected = [(e, s, steps) for e in range(2) for s in range(steps)]
    expect(rec.steps == expected, f"on_step got {rec.steps}, expected {expected}")
    bad = [d for d in rec.losses if not all(torch.isfinite(torch.tensor(v)) for v in d.values())]
    expect(not bad, f"non-finite losses reported: {bad[:1]}")
    _check_images(gen.sample(4, seed=1, labels=_labels(gen, 4)), 4, gen, "sample after fit")
    gen.fit(x, epochs=2, batch_size=BATCH, seed=0, labels=labels, callback=rec)
    expect(rec.epochs == [0, 1], "fit(epochs=2) after 2 epochs trained again")


def check_deterministic_by_seed(name: str, options: Mapping[str, Any]) -> None:
    """Same seed and data give the same state and samples; another sample seed differs."""
    a, b = _build(name, options), _build(name, options)
    x, labels = _data(a)
    a.fit(x, epochs=1, batch_size=BATCH, seed=3, labels=labels)
    b.fit(x, epochs=1, batch_size=BATCH, seed=3, labels=labels)
    lab = _labels(a, 6)
    first = a.sample(6, seed=5, labels=lab)
    expect(torch.equal(first, b.sample(6, seed=5, labels=lab)), "same fit seed, other samples")
    expect(torch.equal(first, a.sample(6, seed=5, labels=lab)), "sampling twice differs")
    expect(not torch.equal(first, a.sample(6, seed=6, labels=lab)), "sample ignores its seed")


def check_resume_is_exact(name: str, options: Mapping[str, Any]) -> None:
    """A ``weights_only`` round trip of ``state_dict`` after epoch 1, then ``fit`` to
    epoch 2, ends bit-exactly where an uninterrupted run does."""
    straight = _build(name, options)
    x, labels = _data(straight)
    straight.fit(x, epochs=2, batch_size=BATCH, seed=7, labels=labels)
    first = _build(name, options)
    first.fit(x, epochs=1, batch_size=BATCH, seed=7, labels=labels)
    try:
        state = _roundtrip(first.state_dict())
    except Exception as exc:
        raise AssertionError(
            f"state_dict does not load with torch.load(weights_only=True): {exc}"
        ) from exc
    resumed = _build(name, options)
    resumed.load_state_dict(state)
    expect(resumed.epochs_done == 1, f"restored epochs_done is {resumed.epochs_done}, not 1")
    lab = _labels(first, 4)
    expect(
        torch.equal(resumed.sample(4, seed=0, labels=lab), first.sample(4, seed=0, labels=lab)),
        "a restored generator samples differently from the one saved",
    )
    resumed.fit(x, epochs=2, batch_size=BATCH, seed=7, labels=labels)
    expect(resumed.epochs_done == 2, f"resumed epochs_done is {resumed.epochs_done}, not 2")
    expect(
        torch.equal(resumed.sample(4, seed=0, labels=lab), straight.sample(4, seed=0, labels=lab)),
        "a resumed run does not end where an uninterrupted one does",
    )


def check_options_round_trip(name: str, options: Mapping[str, Any]) -> None:
    """``options()`` are plain values that survive ``weights_only`` and rebuild the
    generator with the same options."""
    gen = _build(name, options)
    opts = gen.options()
    expect(isinstance(opts, dict), f"options() returned {type(opts).__name__}, not a dict")
    try:
        again = _roundtrip({"options": opts})["options"]
    except Exception as exc:
        raise AssertionError(f"options() are not plain values: {exc}") from exc
    expect(again == opts, "options() change through torch.save / torch.load")
    rebuilt = create_generator(
        name,
        image_size=gen.image_size,
        channels=gen.channels,
        device="cpu",
        num_classes=2,
        **opts,
    )
    expect(rebuilt.options() == opts, f"rebuilt with {opts}, got {rebuilt.options()}")


def check_unknown_option_is_a_medaug_error(name: str, options: Mapping[str, Any]) -> None:
    """An unknown option is a :class:`MedaugError` (a one-line message), never a
    ``TypeError`` traceback."""
    expect_raises(
        MedaugError,
        lambda: _build(name, {**options, "no_such_option_xyz": 1}),
        "an unknown option",
    )


def check_unsupported_size_is_a_medaug_error(name: str, options: Mapping[str, Any]) -> None:
    """A size outside ``supported_sizes`` is a :class:`MedaugError` naming the sizes."""
    sizes = registry("generator").get(name).attribute("supported_sizes", ())
    if not sizes:
        raise unittest.SkipTest(f"generator {name!r} declares no supported_sizes")
    bad = max(sizes) + 1
    err = expect_raises(
        MedaugError, lambda: _build(name, {**options, "image_size": bad}), f"image_size={bad}"
    )
    expect(str(min(sizes)) in str(err), f"the message does not name the sizes: {err}")


CHECKS: tuple[GeneratorCheck, ...] = (
    check_sample_shape_range_and_finite,
    check_fit_reports_every_step_once,
    check_deterministic_by_seed,
    check_resume_is_exact,
    check_options_round_trip,
    check_unknown_option_is_a_medaug_error,
    check_unsupported_size_is_a_medaug_error,
)


def generator_checks(name: str, **options: Any) -> Iterator[Check]:
    """The generator contract checks for ``name``; ``options`` go to every factory call
    (small networks make them fast; ``image_size`` overrides the smallest supported)."""
    for func in CHECKS:
        check = func.__name__.removeprefix("check_")
        yield Check("generator", name, check, partial(func, name, dict(options)))
