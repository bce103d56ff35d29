"""The generator contract: a generative model of the images of one class.

The core trains one generator per minority class (or one conditional generator for
all of them when :attr:`Generator.conditional` is true), saves its state in atomic
checkpoints, and samples synthetic images from it. Any GAN (DCGAN, WGAN-GP, ...)
plugs in by implementing this class and registering a factory::

    @medaug.hookimpl
    def register_generators(register):
        register("wgan", WGAN)

Tensor conventions (every method):

- images are ``float32`` tensors of shape ``(N, C, H, W)`` with ``H == W == image_size``,
  ``C == channels`` (1 for grayscale, 3 for RGB) and values in ``[-1, 1]``;
- tensors handed to :meth:`fit` live on the CPU; the generator moves them to its
  ``device`` itself; :meth:`sample` returns CPU tensors;
- the same ``seed`` gives the same samples from the same state, on the same device;
  ``fit`` with the same ``seed`` on the same data gives the same state (on the CPU), and a
  run restored with :meth:`Generator.load_state_dict` after epoch ``k`` ends exactly where
  an uninterrupted run does.

Construction must not touch the network's random state in a way the results depend on:
:meth:`Generator.fit` (re)initialises the weights from its ``seed`` when no epoch is done.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar, Protocol

import torch


class FitCallback(Protocol):
    """Receives training progress from :meth:`Generator.fit`.

    The core uses it to log losses, draw progress bars, save fixed-noise grids and write a
    checkpoint (``generator.state_dict()``) at the end of every epoch.
    """

    def on_step(
        self, epoch: int, step: int, steps_per_epoch: int, losses: Mapping[str, float]
    ) -> None:
        """Once per optimisation step (``epoch`` and ``step`` 0-based), in order.

        ``losses`` holds plain floats (a GAN reports ``loss_d``, ``loss_g``, ``d_x``,
        ``d_g_z``). To avoid a host sync on every step, a generator may keep the values on
        its device and deliver several steps in a burst (every few steps and at the end
        of each epoch); every step is still reported exactly once.
        """

    def on_epoch_end(self, epoch: int, losses: Mapping[str, float]) -> None:
        """After epoch ``epoch`` (0-based) finished and all its steps were reported.

        :meth:`Generator.state_dict` now reflects ``epoch + 1`` completed epochs: this is
        where the core writes its checkpoint and the fixed-noise sample grid.
        """


class Generator(ABC):
    """A trainable image generator.

    Constructed by its factory as ``Factory(image_size=..., channels=..., device=...,
    num_classes=..., **options)``; unknown or invalid options must raise
    :class:`medaug.MedaugError` with a clear one-line message (naming the valid ones). The
    registry does this for a factory with a fixed signature; a factory taking
    ``**options`` checks them itself. ``device`` is a :class:`torch.device` or a string
    such as ``"cpu"`` / ``"cuda:0"``.

    :func:`medaug.create_generator` checks ``image_size`` against :attr:`supported_sizes`
    (read from the factory, before building) and that the factory returned a
    :class:`Generator`. :mod:`medaug.testing` checks every rule of this contract.
    """

    #: one model serves all classes (``labels`` are then passed to fit/sample)
    conditional: ClassVar[bool] = False
    #: image sizes this generator supports (empty: any); checked before building
    supported_sizes: ClassVar[tuple[int, ...]] = ()

    image_size: int
    channels: int
    device: torch.device

    @abstractmethod
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
        """Train on ``images`` ``(N, C, H, W)`` in ``[-1, 1]`` until ``epochs`` epochs are done.

        Training resumes from the epoch recorded in the state (after
        :meth:`load_state_dict`), so calling ``fit`` on a restored generator continues an
        interrupted run and ends in the same state as an uninterrupted one.
        """

    @abstractmethod
    def sample(self, n: int, *, seed: int, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Return ``n`` images ``(n, C, H, W)`` in ``[-1, 1]`` on the CPU.

        Deterministic in ``seed`` (and ``labels`` for a conditional generator); sampling
        does not change the training state.
        """

    @abstractmethod
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume training: networks, optimisers, RNG states, epoch.

        Values must be tensors, numbers, strings, lists or dicts, so that
        ``torch.load(path, weights_only=True)`` can read the checkpoint back.
        """

    @abstractmethod
    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore a state produced by :meth:`state_dict`."""

    @property
    @abstractmethod
    def epochs_done(self) -> int:
        """Number of completed training epochs."""

    def options(self) -> dict[str, Any]:
        """The effective plugin options (defaults included), JSON-serialisable; recorded in
        the manifest and checkpoints, and passed back to the factory to rebuild it."""
        return {}
