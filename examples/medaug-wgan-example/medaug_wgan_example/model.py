"""The ``wgan-gp`` generator: WGAN with gradient penalty (Gulrajani et al., 2017).

The generator and critic are DCGAN-shaped (transposed convolutions up, strided
convolutions down) for any power-of-two image size >= 16; the critic has no
BatchNorm, as the gradient penalty requires. Adam(1e-4, betas=(0.0, 0.9)),
``n_critic`` critic steps per generator step, penalty weight ``gp_lambda``.

What every generator needs besides its networks comes from :mod:`medaug.plugin_kit`:
the input checks, the optimiser, and the loss log that reports each step to medaug's
progress display with one host sync every ``sync_every`` steps.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

import medaug
from medaug.contracts import FitCallback, Generator
from medaug.plugin_kit import LossLog, check_images, fused_adam


def _levels(image_size: int) -> int:
    if image_size < 16 or image_size & (image_size - 1):
        raise medaug.MedaugError(
            f"wgan-gp: image size must be a power of two >= 16, got {image_size}"
        )
    return int(math.log2(image_size)) - 2  # 4x4 -> image_size


def _generator(nz: int, width: int, channels: int, levels: int) -> nn.Sequential:
    ch = width * 2 ** (levels - 1)
    layers: list[nn.Module] = [
        nn.ConvTranspose2d(nz, ch, 4, 1, 0, bias=False),
        nn.BatchNorm2d(ch),
        nn.ReLU(True),
    ]
    for _ in range(levels - 1):
        layers += [
            nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ch // 2),
            nn.ReLU(True),
        ]
        ch //= 2
    layers += [nn.ConvTranspose2d(ch, channels, 4, 2, 1, bias=False), nn.Tanh()]
    return nn.Sequential(*layers)


def _critic(width: int, channels: int, levels: int) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.2, True)]
    ch = width
    for _ in range(levels - 1):
        layers += [nn.Conv2d(ch, ch * 2, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        ch *= 2
    layers += [nn.Conv2d(ch, 1, 4, 1, 0), nn.Flatten(0)]
    return nn.Sequential(*layers)


class WGANGP(Generator):
    """WGAN with gradient penalty (example third-party plugin)."""

    supported_sizes = (16, 32, 64, 128, 256)

    def __init__(
        self,
        *,
        image_size: int = 64,
        channels: int = 1,
        device: torch.device | str = "cpu",
        num_classes: int = 1,
        nz: int = 64,
        width: int = 32,
        n_critic: int = 5,
        gp_lambda: float = 10.0,
        lr: float = 1e-4,
    ) -> None:
        self.image_size, self.channels = image_size, channels
        self.device = torch.device(device)
        self._opts: dict[str, Any] = dict(
            nz=nz, width=width, n_critic=n_critic, gp_lambda=gp_lambda, lr=lr
        )
        levels = _levels(image_size)
        self.netg = _generator(nz, width, channels, levels).to(self.device)
        self.netc = _critic(width, channels, levels).to(self.device)
        self.opt_g = fused_adam(self.netg.parameters(), lr, betas=(0.0, 0.9))
        self.opt_c = fused_adam(self.netc.parameters(), lr, betas=(0.0, 0.9))
        self._epochs = 0
        self._rng = torch.Generator()

    @property
    def epochs_done(self) -> int:
        return self._epochs

    def options(self) -> dict[str, Any]:
        return dict(self._opts)

    def _noise(self, n: int, rng: torch.Generator) -> torch.Tensor:
        z = torch.randn(n, int(self._opts["nz"]), 1, 1, generator=rng)
        return z.to(self.device)

    def _penalty(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        alpha = torch.rand(real.shape[0], 1, 1, 1, generator=self._rng).to(self.device)
        mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
        (grad,) = torch.autograd.grad(self.netc(mixed).sum(), mixed, create_graph=True)
        return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()

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
        check_images("wgan-gp", images, self.channels, self.image_size)
        if self._epochs == 0:
            torch.manual_seed(seed)
            for net in (self.netg, self.netc):  # weights depend on the seed alone
                for m in net.modules():
                    if isinstance(m, nn.Conv2d | nn.ConvTranspose2d | nn.BatchNorm2d):
                        m.reset_parameters()
                    if isinstance(m, nn.Conv2d | nn.ConvTranspose2d):
                        nn.init.normal_(m.weight, 0.0, 0.02)
            self._rng.manual_seed(seed)
        batch = min(batch_size, len(images))
        steps = max(1, len(images) // batch)
        n_critic, gp_lambda = int(self._opts["n_critic"]), float(self._opts["gp_lambda"])
        log = LossLog(("loss_d", "loss_g"), callback, sync_every=16, device=self.device)
        for epoch in range(self._epochs, epochs):
            order = torch.randperm(len(images), generator=self._rng)
            loss_g = torch.zeros((), device=self.device)
            log.begin(epoch, steps)
            for step in range(steps):
                real = images[order[step * batch : (step + 1) * batch]].to(self.device)
                fake = self.netg(self._noise(len(real), self._rng)).detach()
                loss_c = self.netc(fake).mean() - self.netc(real).mean()
                loss_c = loss_c + gp_lambda * self._penalty(real, fake)
                self.opt_c.zero_grad(set_to_none=True)
                loss_c.backward()
                self.opt_c.step()
                if step % n_critic == n_critic - 1 or steps < n_critic:
                    loss_g = -self.netc(self.netg(self._noise(len(real), self._rng))).mean()
                    self.opt_g.zero_grad(set_to_none=True)
                    loss_g.backward()
                    self.opt_g.step()
                log.record(step, torch.stack([loss_c.detach(), loss_g.detach()]))
            self._epochs = epoch + 1
            log.end()

    @torch.no_grad()
    def sample(self, n: int, *, seed: int, labels: torch.Tensor | None = None) -> torch.Tensor:
        self.netg.eval()
        try:
            out = self.netg(self._noise(n, torch.Generator().manual_seed(seed)))
        finally:
            self.netg.train()
        return out.float().clamp(-1, 1).cpu()

    def state_dict(self) -> dict[str, Any]:
        return {
            "netg": self.netg.state_dict(),
            "netc": self.netc.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_c": self.opt_c.state_dict(),
            "epochs_done": self._epochs,
            "rng": self._rng.get_state(),
            "options": self.options(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.netg.load_state_dict(state["netg"])
        self.netc.load_state_dict(state["netc"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_c.load_state_dict(state["opt_c"])
        self._epochs = int(state["epochs_done"])
        self._rng.set_state(state["rng"])
