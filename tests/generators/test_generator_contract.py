"""The generator contract, checked for every registered generator (timm-style).

A new generator plugin is tested here with no new test code: forward / sample shapes,
value range, no NaN, determinism by seed, fit callbacks, and a state round-trip through
``torch.save`` / ``torch.load(weights_only=True)`` that resumes exactly.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import pytest
import torch

import medaug
from medaug.contracts.generator import Generator

NAMES = medaug.list_generators()
SIZE = 16
N_TRAIN = 12
BATCH = 4


def _build(name: str, channels: int = 1) -> Any:
    entry = medaug.registry("generator").get(name)
    sizes = getattr(entry.factory, "supported_sizes", ()) or (SIZE,)
    size = min(sizes)
    return medaug.create_generator(
        name, image_size=size, channels=channels, device="cpu", num_classes=2
    )


def _data(gen: Any, n: int = N_TRAIN) -> tuple[torch.Tensor, torch.Tensor | None]:
    g = torch.Generator().manual_seed(0)
    x = torch.rand(n, gen.channels, gen.image_size, gen.image_size, generator=g) * 2 - 1
    labels = torch.arange(n) % 2 if gen.conditional else None
    return x, labels


def _labels(gen: Any, n: int) -> torch.Tensor | None:
    return torch.zeros(n, dtype=torch.long) if gen.conditional else None


def _roundtrip(state: Mapping[str, Any]) -> Any:
    buf = io.BytesIO()
    torch.save(state, buf)
    buf.seek(0)
    return torch.load(buf, weights_only=True)


class Recorder:
    """A FitCallback that records what it receives."""

    def __init__(self) -> None:
        self.steps: list[tuple[int, int, int]] = []
        self.epochs: list[int] = []
        self.losses: list[Mapping[str, float]] = []

    def on_step(self, epoch: int, step: int, steps: int, losses: Mapping[str, float]) -> None:
        self.steps.append((epoch, step, steps))
        self.losses.append(dict(losses))

    def on_epoch_end(self, epoch: int, losses: Mapping[str, float]) -> None:
        self.epochs.append(epoch)


def test_at_least_one_generator_is_registered() -> None:
    assert "dcgan" in NAMES


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("channels", [1, 3])
def test_sample_shape_range_and_finite(name: str, channels: int) -> None:
    gen = _build(name, channels)
    assert isinstance(gen, Generator)
    assert gen.image_size in type(gen).supported_sizes or not type(gen).supported_sizes
    out = gen.sample(5, seed=0, labels=_labels(gen, 5))
    assert out.shape == (5, channels, gen.image_size, gen.image_size)
    assert out.dtype == torch.float32 and out.device.type == "cpu"
    assert torch.isfinite(out).all()
    assert out.min() >= -1.0 and out.max() <= 1.0
    assert gen.sample(0, seed=0, labels=_labels(gen, 0)).shape[0] == 0


@pytest.mark.parametrize("name", NAMES)
def test_fit_reports_every_step_once_and_stays_finite(name: str) -> None:
    gen = _build(name)
    x, labels = _data(gen)
    rec = Recorder()
    gen.fit(x, epochs=2, batch_size=BATCH, seed=0, labels=labels, callback=rec)
    assert gen.epochs_done == 2
    assert rec.epochs == [0, 1]
    steps = rec.steps[0][2]
    assert rec.steps == [(e, s, steps) for e in range(2) for s in range(steps)]
    assert all(all(torch.isfinite(torch.tensor(v)) for v in d.values()) for d in rec.losses)
    out = gen.sample(4, seed=1, labels=_labels(gen, 4))
    assert torch.isfinite(out).all() and out.abs().max() <= 1.0
    # fitting to an epoch count already reached is a no-op
    gen.fit(x, epochs=2, batch_size=BATCH, seed=0, labels=labels, callback=rec)
    assert rec.epochs == [0, 1]


@pytest.mark.parametrize("name", NAMES)
def test_determinism_by_seed(name: str) -> None:
    a, b = _build(name), _build(name)
    x, labels = _data(a)
    a.fit(x, epochs=1, batch_size=BATCH, seed=3, labels=labels)
    b.fit(x, epochs=1, batch_size=BATCH, seed=3, labels=labels)
    lab = _labels(a, 6)
    assert torch.equal(a.sample(6, seed=5, labels=lab), b.sample(6, seed=5, labels=lab))
    assert torch.equal(a.sample(6, seed=5, labels=lab), a.sample(6, seed=5, labels=lab))
    assert not torch.equal(a.sample(6, seed=5, labels=lab), a.sample(6, seed=6, labels=lab))


@pytest.mark.parametrize("name", NAMES)
def test_state_roundtrip_weights_only_and_exact_resume(name: str) -> None:
    straight = _build(name)
    x, labels = _data(straight)
    straight.fit(x, epochs=2, batch_size=BATCH, seed=7, labels=labels)

    first = _build(name)
    first.fit(x, epochs=1, batch_size=BATCH, seed=7, labels=labels)
    state = _roundtrip(first.state_dict())
    resumed = _build(name)
    resumed.load_state_dict(state)
    assert resumed.epochs_done == 1
    lab = _labels(first, 4)
    assert torch.equal(resumed.sample(4, seed=0, labels=lab), first.sample(4, seed=0, labels=lab))
    resumed.fit(x, epochs=2, batch_size=BATCH, seed=7, labels=labels)
    assert resumed.epochs_done == 2
    assert torch.equal(
        resumed.sample(4, seed=0, labels=lab), straight.sample(4, seed=0, labels=lab)
    )


@pytest.mark.parametrize("name", NAMES)
def test_options_are_plain_and_rebuild_the_generator(name: str) -> None:
    gen = _build(name)
    opts = gen.options()
    assert _roundtrip({"o": opts})["o"] == opts
    again = medaug.create_generator(
        name, image_size=gen.image_size, channels=gen.channels, device="cpu", num_classes=2, **opts
    )
    assert again.options() == opts


@pytest.mark.parametrize("name", NAMES)
def test_unknown_option_is_a_clear_error(name: str) -> None:
    with pytest.raises((medaug.MedaugError, TypeError)):
        medaug.create_generator(name, image_size=16, channels=1, no_such_option_xyz=1)
