"""The ``domain`` extractor: a small convolutional autoencoder medaug trains on the real
images it audits, so FID & co. are measured in features of *this* modality, not ImageNet.

How it is trained (deterministic in ``seed`` on the CPU):

- encoder: ``stages`` blocks of a 3x3 convolution with stride 2 and LeakyReLU(0.2),
  widths ``8, 16, 32, 64`` (``stages = min(4, log2(image_size) - 1)``, so the last map is
  at least 2x2); decoder: the mirror image with 4x4 transposed convolutions;
- objective: mean squared reconstruction error of the real images in ``[-1, 1]``; Adam
  (lr ``2e-3``), ``steps`` optimisation steps (300) of ``batch_size`` (32) images taken
  in a seeded shuffled order; weights initialised from ``seed``;
- features: for every encoder block, the spatial mean and standard deviation of each
  channel (2 x 120 = 240 values at 64 px): the means follow anatomy and brightness, the
  standard deviations texture, sharpness and noise. They are standardised with the mean
  and standard deviation over the training images, so every feature has unit scale.

The decoder only serves training and is not kept. Training runs on one CPU thread, so
the weights are bit-identical whatever the machine's thread count. Cost: about 10 s of
CPU at 64 px whatever the number of images (the number of steps is fixed).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from medaug.contracts.features import FeatureExtractor
from medaug.errors import MedaugError

VERSION = 1
DEFAULT_WIDTHS = (8, 16, 32, 64)


def stage_count(image_size: int, max_stages: int) -> int:
    """Encoder blocks for ``image_size``: halve until the map is at least 2x2."""
    return max(1, min(max_stages, int(math.log2(image_size)) - 1))


class DomainEncoder(nn.Module):
    """The encoder plus the standardisation of its pooled statistics."""

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, channels: int, widths: tuple[int, ...]) -> None:
        super().__init__()
        blocks: list[nn.Module] = []
        previous = channels
        for width in widths:
            blocks.append(
                nn.Sequential(nn.Conv2d(previous, width, 3, stride=2, padding=1), nn.LeakyReLU(0.2))
            )
            previous = width
        self.blocks = nn.ModuleList(blocks)
        self.num_features = 2 * sum(widths)
        self.register_buffer("mean", torch.zeros(self.num_features))
        self.register_buffer("std", torch.ones(self.num_features))

    def code(self, x: torch.Tensor) -> torch.Tensor:
        """The last block's map (what the decoder reconstructs from)."""
        for block in self.blocks:
            x = block(x)
        return x

    def statistics(self, x: torch.Tensor) -> torch.Tensor:
        """Raw per-channel spatial means and standard deviations of every block."""
        stats: list[torch.Tensor] = []
        for block in self.blocks:
            x = block(x)
            stats.append(x.mean(dim=(2, 3)))
            stats.append(x.std(dim=(2, 3), correction=0))
        return torch.cat(stats, dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.statistics(x) - self.mean) / self.std


def _decoder(channels: int, widths: tuple[int, ...]) -> nn.Sequential:
    layers: list[nn.Module] = []
    sizes = [*reversed(widths), channels]
    for i in range(len(widths)):
        layers.append(nn.ConvTranspose2d(sizes[i], sizes[i + 1], 4, stride=2, padding=1))
        if i < len(widths) - 1:
            layers.append(nn.LeakyReLU(0.2))
    return nn.Sequential(*layers)


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise MedaugError(f"domain extractor: {name} must be a positive integer, got {value!r}")
    return value


@dataclass(frozen=True)
class DomainTraining:
    """How the autoencoder is trained, an option group of :class:`DomainExtractor` (its
    fields are the options ``steps``, ``batch_size`` and ``lr``): ``steps`` Adam steps
    of ``batch_size`` images at learning rate ``lr``."""

    steps: int = 300
    batch_size: int = 32
    lr: float = 2e-3


class DomainExtractor(FeatureExtractor):
    """Autoencoder features trained on the real images being audited (no weights needed)."""

    trainable: ClassVar[bool] = True

    def __init__(
        self,
        *,
        image_size: int,
        channels: int,
        device: torch.device | str = "cpu",
        training: DomainTraining = DomainTraining(),
        widths: tuple[int, ...] | list[int] = DEFAULT_WIDTHS,
    ) -> None:
        steps, batch_size, lr = training.steps, training.batch_size, training.lr
        if channels not in (1, 3):
            raise MedaugError(f"domain extractor: channels must be 1 or 3, got {channels!r}")
        self.image_size = _positive_int("image_size", image_size)
        self.channels = channels
        self.device = torch.device(device)
        self.steps = _positive_int("steps", steps)
        self.batch_size = _positive_int("batch_size", batch_size)
        if not isinstance(lr, int | float) or isinstance(lr, bool) or lr <= 0:
            raise MedaugError(f"domain extractor: lr must be a positive number, got {lr!r}")
        self.lr = float(lr)
        all_widths = tuple(_positive_int("widths", w) for w in widths)
        if not all_widths:
            raise MedaugError("domain extractor: widths must name at least one block width")
        self.widths = all_widths[: stage_count(self.image_size, len(all_widths))]
        self.encoder = DomainEncoder(channels, self.widths).to(self.device).eval()
        self.fitted = False
        self.trained_on = 0
        self.final_loss = float("nan")

    @property
    def num_features(self) -> int:
        return self.encoder.num_features

    def module(self) -> nn.Module:
        if not self.fitted:
            raise MedaugError("domain extractor used before it was trained (call fit)")
        return self.encoder.eval()

    def cache_token(self) -> str:
        return (
            f"domain-v{VERSION}:{self.image_size}:{self.channels}:{self.widths}:"
            f"{self.steps}:{self.batch_size}:{self.lr!r}:{self.device.type}"
        )

    def fit(self, images: torch.Tensor, *, seed: int) -> None:
        if images.ndim != 4 or images.shape[1] != self.channels or images.shape[0] < 2:
            raise MedaugError(
                f"domain extractor: expected (N>=2, {self.channels}, H, W) images, "
                f"got {tuple(images.shape)}"
            )
        threads = torch.get_num_threads()
        if self.device.type == "cpu":
            # one thread: the same weights whatever the machine's thread count (the order
            # of floating-point sums depends on it), and no stalls on a busy machine
            torch.set_num_threads(1)
        try:
            encoder, loss = self._train(images.float(), seed)
        finally:
            torch.set_num_threads(threads)
        self.encoder = encoder
        self.fitted = True
        self.trained_on = len(images)
        self.final_loss = loss

    def _train(self, data: torch.Tensor, seed: int) -> tuple[DomainEncoder, float]:
        devices = [self.device] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            encoder = DomainEncoder(self.channels, self.widths)
            decoder = _decoder(self.channels, self.widths)
        encoder.to(self.device).train()
        decoder.to(self.device).train()
        optimizer = torch.optim.Adam([*encoder.parameters(), *decoder.parameters()], lr=self.lr)
        batches = _batches(
            len(data), self.batch_size, self.steps, torch.Generator().manual_seed(seed)
        )
        loss = torch.zeros(())
        for index in batches:
            x = data[index].to(self.device)
            out = decoder(encoder.code(x))
            if out.shape[-2:] != x.shape[-2:]:
                out = F.interpolate(out, size=x.shape[-2:], mode="bilinear", align_corners=False)
            loss = F.mse_loss(out, x)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        encoder.eval()
        with torch.inference_mode():
            stats = torch.cat(
                [
                    encoder.statistics(data[i : i + 256].to(self.device))
                    for i in range(0, len(data), 256)
                ]
            )
        encoder.mean.copy_(stats.mean(dim=0))
        encoder.std.copy_(stats.std(dim=0).clamp_min(1e-6))
        return encoder, float(loss.detach())

    def state_dict(self) -> dict[str, Any]:
        return {
            "version": VERSION,
            "encoder": {k: v.detach().cpu() for k, v in self.encoder.state_dict().items()},
            "trained_on": self.trained_on,
            "final_loss": self.final_loss,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        if state.get("version") != VERSION:
            raise MedaugError("domain extractor state of another version; retrain it")
        encoder = DomainEncoder(self.channels, self.widths)
        encoder.load_state_dict(state["encoder"])
        self.encoder = encoder.to(self.device).eval()
        self.trained_on = int(state.get("trained_on", 0))
        self.final_loss = float(state.get("final_loss", float("nan")))
        self.fitted = True

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "convolutional autoencoder trained on the real images (pooled statistics)",
            "version": VERSION,
            "widths": list(self.widths),
            "steps": self.steps,
            "batch_size": self.batch_size,
            "lr": self.lr,
            "trained_on": self.trained_on,
            "final_loss": round(self.final_loss, 6),
        }


def _batches(n: int, batch_size: int, steps: int, generator: torch.Generator) -> list[torch.Tensor]:
    """``steps`` index batches walking seeded shuffles of ``range(n)`` (epoch after epoch)."""
    size = min(batch_size, n)
    out: list[torch.Tensor] = []
    order = torch.randperm(n, generator=generator)
    pos = 0
    while len(out) < steps:
        if pos + size > n:
            order = torch.randperm(n, generator=generator)
            pos = 0
        out.append(order[pos : pos + size])
        pos += size
    return out


__all__ = ["DomainEncoder", "DomainExtractor", "DomainTraining", "stage_count"]
