"""Progress reporting for balance runs: a protocol, a silent default and a rich one."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from medaug.console import err_console

LOSS_LABELS = {"loss_d": "D", "loss_g": "G", "d_x": "D(x)", "d_g_z": "D(G(z))"}


class Reporter(Protocol):
    """Receives what a balance run is doing."""

    def message(self, text: str) -> None:
        """A one-line note (resuming, skipping a finished class...)."""

    def training(self, cls: str, epochs: int, epochs_done: int) -> None:
        """Training of ``cls`` starts (or resumes after ``epochs_done`` epochs)."""

    def step(
        self, cls: str, epoch: int, step: int, steps: int, losses: Mapping[str, float]
    ) -> None:
        """One optimisation step finished."""

    def epoch_end(self, cls: str, epoch: int, losses: Mapping[str, float]) -> None:
        """An epoch finished and was checkpointed."""

    def sampling(self, cls: str, n: int) -> None:
        """Writing ``n`` synthetic images of ``cls`` starts."""

    def sampled(self, cls: str, k: int) -> None:
        """``k`` more images of ``cls`` are on disk."""

    def close(self) -> None:
        """The run ended (or failed)."""


class NullReporter:
    """Reports nothing (library use, tests)."""

    def message(self, text: str) -> None:
        pass

    def training(self, cls: str, epochs: int, epochs_done: int) -> None:
        pass

    def step(
        self, cls: str, epoch: int, step: int, steps: int, losses: Mapping[str, float]
    ) -> None:
        pass

    def epoch_end(self, cls: str, epoch: int, losses: Mapping[str, float]) -> None:
        pass

    def sampling(self, cls: str, n: int) -> None:
        pass

    def sampled(self, cls: str, k: int) -> None:
        pass

    def close(self) -> None:
        pass


class MessageReporter(NullReporter):
    """Hands the messages to ``say`` (e.g. :func:`medaug.console.warn`); no progress."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self.say = say

    def message(self, text: str) -> None:
        self.say(text)


def format_losses(losses: Mapping[str, float]) -> str:
    """``D 1.234  G 0.876  D(x) 0.51  D(G(z)) 0.32`` (unknown names as they are)."""
    return "  ".join(f"{LOSS_LABELS.get(k, k)} {v:.3f}" for k, v in losses.items())


class RichReporter:
    """Per-class bars on stderr: epochs and steps with the running losses, then sampling."""

    def __init__(self, console: Any = None) -> None:
        self.console = console or err_console
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[losses]}"),
            console=self.console,
        )
        self.progress.start()
        self._train: dict[str, TaskID] = {}
        self._sample: dict[str, TaskID] = {}
        self._epochs: dict[str, int] = {}

    def message(self, text: str) -> None:
        self.progress.console.print(text, highlight=False, markup=False)

    def training(self, cls: str, epochs: int, epochs_done: int) -> None:
        self._epochs[cls] = epochs
        self._train[cls] = self.progress.add_task(
            f"{cls}: epoch {epochs_done + 1}/{epochs}", total=None, losses=""
        )

    def step(
        self, cls: str, epoch: int, step: int, steps: int, losses: Mapping[str, float]
    ) -> None:
        task = self._train.get(cls)
        if task is None:
            return
        epochs = self._epochs[cls]
        self.progress.update(
            task,
            total=epochs * steps,
            completed=epoch * steps + step + 1,
            description=f"{cls}: epoch {epoch + 1}/{epochs}",
            losses=format_losses(losses),
        )

    def epoch_end(self, cls: str, epoch: int, losses: Mapping[str, float]) -> None:
        task = self._train.get(cls)
        if task is not None:
            self.progress.update(task, losses=format_losses(losses))

    def sampling(self, cls: str, n: int) -> None:
        self._sample[cls] = self.progress.add_task(f"{cls}: writing", total=n, losses="")

    def sampled(self, cls: str, k: int) -> None:
        task = self._sample.get(cls)
        if task is not None:
            self.progress.advance(task, k)

    def close(self) -> None:
        self.progress.stop()


class LineReporter(NullReporter):
    """Sends the notable events (start, resume, end of training) to a line logger, e.g.
    an experiment's log; steps are not reported."""

    def __init__(self, log: Callable[[str], None], prefix: str = "") -> None:
        self.log, self.prefix = log, prefix

    def message(self, text: str) -> None:
        self.log(f"{self.prefix}{text}")

    def training(self, cls: str, epochs: int, epochs_done: int) -> None:
        start = f" from epoch {epochs_done}" if epochs_done else ""
        self.log(f"{self.prefix}training the generator for {cls} ({epochs} epochs{start})")
