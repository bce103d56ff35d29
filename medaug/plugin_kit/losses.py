"""Per-step losses of a generator's ``fit``, kept on the device and handed to the
engine's :class:`~medaug.contracts.generator.FitCallback` every ``sync_every`` steps:
one host sync per report instead of one per step, and every step still reported."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from medaug.contracts.generator import FitCallback


class LossLog:
    """The losses named ``names`` of each step of an epoch (:meth:`begin` it, then
    :meth:`record` each step, then :meth:`end`: the epoch's means)."""

    def __init__(
        self,
        names: Sequence[str],
        callback: FitCallback | None,
        *,
        sync_every: int,
        device: torch.device,
    ) -> None:
        self.names = tuple(names)
        self._callback = callback
        self._sync_every = max(1, int(sync_every))
        self._device = device
        self._log = torch.empty(0, len(self.names), device=device)
        self._epoch = self._reported = 0

    def begin(self, epoch: int, steps: int) -> None:
        """Start epoch ``epoch`` of ``steps`` steps."""
        self._log = torch.empty(steps, len(self.names), device=self._device)
        self._epoch, self._reported = epoch, 0

    def record(self, step: int, losses: torch.Tensor) -> None:
        """Keep step ``step``'s losses (a device tensor, one value per name); every
        ``sync_every`` steps and at the epoch's last step, report the steps kept since."""
        self._log[step] = losses
        steps = len(self._log)
        if self._callback is None or not ((step + 1) % self._sync_every == 0 or step == steps - 1):
            return
        for offset, row in enumerate(self._log[self._reported : step + 1].tolist()):
            values = dict(zip(self.names, row, strict=True))
            self._callback.on_step(self._epoch, self._reported + offset, steps, values)
        self._reported = step + 1

    def end(self) -> None:
        """Report the epoch's mean of each loss."""
        if self._callback is not None:
            means = self._log.mean(0).tolist()
            self._callback.on_epoch_end(self._epoch, dict(zip(self.names, means, strict=True)))


__all__ = ["LossLog"]
