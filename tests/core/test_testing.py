"""medaug.testing: the shipped contract checks pass for a sound plugin and catch broken
ones (each flaw fails the check that covers it)."""

from __future__ import annotations

import unittest
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import torch
from medaug_folder.reader import FolderReader

import medaug
from medaug.contracts.generator import FitCallback, Generator
from medaug.contracts.reader import Scan
from medaug.plugins import get_host
from medaug.testing import Check, checks, generator_checks, parametrize_with_checks, reader_checks


class ToyGenerator(Generator):
    """A tiny sound generator; ``flaw`` breaks one rule of the contract on purpose."""

    supported_sizes = (8, 16)

    def __init__(
        self,
        *,
        image_size: int = 8,
        channels: int = 1,
        device: str | torch.device = "cpu",
        num_classes: int = 1,
        flaw: str = "",
    ) -> None:
        self.image_size, self.channels = image_size, channels
        self.device = torch.device(device)
        self.flaw = flaw
        self.mean = torch.zeros(channels, image_size, image_size)
        self._epochs = 0
        self._rng = torch.Generator()

    @property
    def epochs_done(self) -> int:
        return self._epochs

    def options(self) -> dict[str, Any]:
        return {"flaw": self.flaw} if self.flaw else {}

    def fit(
        self,
        images: torch.Tensor,
        *,
        epochs: int,
        batch_size: int,
        seed: int,
        labels: torch.Tensor | None = None,
        callback: FitCallback | None = None,
    ) -> None:
        if self._epochs == 0:
            self._rng.manual_seed(seed)
        steps = max(1, len(images) // batch_size)
        for epoch in range(self._epochs, epochs):
            order = torch.randperm(len(images), generator=self._rng)
            for step in range(steps):
                batch = images[order[step * batch_size : (step + 1) * batch_size]]
                self.mean = 0.5 * self.mean + 0.5 * batch.mean(0)
                if callback is not None:
                    callback.on_step(epoch, step, steps, {"loss": float(self.mean.abs().mean())})
            self._epochs = epoch + 1
            if callback is not None:
                callback.on_epoch_end(epoch, {"loss": float(self.mean.abs().mean())})

    def sample(self, n: int, *, seed: int, labels: torch.Tensor | None = None) -> torch.Tensor:
        g = torch.Generator().manual_seed(seed)
        out = torch.tanh(self.mean + 0.1 * torch.randn(n, *self.mean.shape, generator=g))
        return out * 10 if self.flaw == "range" else out

    def state_dict(self) -> dict[str, Any]:
        return {"mean": self.mean.clone(), "epochs": self._epochs, "rng": self._rng.get_state()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.mean = state["mean"].clone()
        self._epochs = int(state["epochs"])
        if self.flaw != "resume":
            self._rng.set_state(state["rng"])


class WrongShapeNet(torch.nn.Module):
    def __init__(self, *, num_classes: int, in_chans: int, image_size: int) -> None:
        super().__init__()
        self.head = torch.nn.Linear(in_chans, num_classes + 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(x.mean((2, 3)))


class WritingReader(FolderReader):
    """Leaves a file in the dataset it scans (forbidden)."""

    def scan(self, root: Path) -> Scan:
        if root.is_dir():
            (root / "index.cache").write_text("oops")
        return super().scan(root)


class ToyPlugin:
    @medaug.hookimpl
    def register_generators(self, register):  # type: ignore[no-untyped-def]
        register("toy-gan", ToyGenerator)

    @medaug.hookimpl
    def register_classifiers(self, register):  # type: ignore[no-untyped-def]
        register("wrong-shape-net", WrongShapeNet)

    @medaug.hookimpl
    def register_readers(self, register):  # type: ignore[no-untyped-def]
        register("writing-reader", WritingReader)


@pytest.fixture
def toy_plugin() -> Iterator[None]:
    host = get_host()
    host.register(ToyPlugin(), name="toy")
    yield
    host.unregister("toy")


def _by_name(found: Iterator[Check]) -> dict[str, Check]:
    return {c.check: c for c in found}


@pytest.mark.usefixtures("toy_plugin")
def test_a_sound_generator_passes_every_check() -> None:
    found = list(generator_checks("toy-gan"))
    assert [c.id for c in found][:2] == [
        "toy-gan-sample_shape_range_and_finite",
        "toy-gan-fit_reports_every_step_once",
    ]
    for check in found:
        check()


@pytest.mark.usefixtures("toy_plugin")
@pytest.mark.parametrize(
    ("flaw", "failing", "message"),
    [
        ("range", "sample_shape_range_and_finite", "expected \\[-1, 1\\]"),
        ("resume", "resume_is_exact", "does not end where an uninterrupted one does"),
    ],
)
def test_a_flawed_generator_fails_the_check_that_covers_it(
    flaw: str, failing: str, message: str
) -> None:
    check = _by_name(generator_checks("toy-gan", flaw=flaw))[failing]
    with pytest.raises(AssertionError, match=message):
        check()


@pytest.mark.usefixtures("toy_plugin")
def test_a_wrong_logits_shape_fails() -> None:
    check = _by_name(checks("classifier", "wrong-shape-net"))["forward_backward_shapes_finite"]
    with pytest.raises(AssertionError, match=r"logits \(4, 3\), expected \(4, 2\)"):
        check()


@pytest.mark.usefixtures("toy_plugin")
def test_a_reader_writing_into_the_dataset_fails() -> None:
    check = _by_name(reader_checks("writing-reader"))["scans_and_decodes_class_folders"]
    with pytest.raises(AssertionError, match="wrote into the dataset"):
        check()


def test_a_reader_without_a_writable_format_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("medaug.testing.readers.WRITERS", {})
    check = _by_name(reader_checks("folder"))["scans_and_decodes_class_folders"]
    with pytest.raises(unittest.SkipTest, match="declares no suffix with a writer"):
        check()


def test_parametrize_with_checks_ids() -> None:
    mark = parametrize_with_checks("reader", ["folder", "dicom"])
    argnames, params = mark.args
    assert argnames == "check"
    assert [p.id for p in params] == [
        "folder-is_a_reader_and_rejects_missing_roots",
        "folder-scans_and_decodes_class_folders",
        "dicom-is_a_reader_and_rejects_missing_roots",
        "dicom-scans_and_decodes_class_folders",
    ]
    with pytest.raises(ValueError, match="unknown plugin kind 'widget'"):
        list(checks("widget", "x"))
