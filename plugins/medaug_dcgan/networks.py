"""DCGAN generator and discriminator networks, with the layer stack computed from the size.

At 64 px they are exactly the pytorch/examples networks. Each factor of two in image size
adds (or removes) one stride-2 block; feature widths double per block down the pyramid and
are capped at ``8 * ngf`` / ``8 * ndf`` (the 64 px widths) so 128 and 256 px stay tractable.
With ``spectral_norm`` the discriminator's convolutions are spectrally normalised and its
BatchNorm layers dropped, as in SNGAN (Miyato, Kataoka, Koyama & Yoshida, ICLR 2018).
"""

from __future__ import annotations

import itertools
import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm as _spectral_norm

from medaug.rng import normal_, randn

MAX_WIDTH_MULT = 8


def num_blocks(image_size: int) -> int:
    """Stride-2 blocks between the 4x4 base and ``image_size`` (4 at 64 px)."""
    if image_size < 16 or image_size & (image_size - 1):
        raise ValueError(f"image size must be a power of two >= 16, got {image_size}")
    return int(math.log2(image_size)) - 2


def _widths(base: int, blocks: int) -> list[int]:
    """Feature widths from the highest resolution layer to the 4x4 one."""
    return [base * min(2**i, MAX_WIDTH_MULT) for i in range(blocks)]


class DCGANGenerator(nn.Sequential):
    """z ``(N, nz, 1, 1)`` -> image ``(N, channels, S, S)`` in ``[-1, 1]``.

    ConvTranspose(4, 1, 0) to 4x4, then ConvTranspose(4, 2, 1) + BatchNorm + ReLU blocks,
    the last one to ``channels`` with Tanh.
    """

    def __init__(self, image_size: int, channels: int, nz: int = 100, ngf: int = 64) -> None:
        blocks = num_blocks(image_size)
        widths = _widths(ngf, blocks)[::-1]  # 4x4 layer first
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(nz, widths[0], 4, 1, 0, bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(True),
        ]
        for w_in, w_out in itertools.pairwise(widths):
            layers += [
                nn.ConvTranspose2d(w_in, w_out, 4, 2, 1, bias=False),
                nn.BatchNorm2d(w_out),
                nn.ReLU(True),
            ]
        layers += [nn.ConvTranspose2d(widths[-1], channels, 4, 2, 1, bias=False), nn.Tanh()]
        super().__init__(*layers)
        self.nz = nz


class DCGANDiscriminator(nn.Sequential):
    """Image ``(N, channels, S, S)`` -> one real/fake logit per image ``(N,)``.

    Conv(4, 2, 1) + LeakyReLU(0.2) (no BatchNorm on the first layer), Conv + BatchNorm +
    LeakyReLU blocks down to 4x4, then Conv(4, 1, 0) to a logit (no Sigmoid: the loss is
    ``BCEWithLogitsLoss``). With ``spectral_norm``: every convolution spectrally
    normalised, no BatchNorm.
    """

    def __init__(
        self, image_size: int, channels: int, ndf: int = 64, *, spectral_norm: bool = False
    ) -> None:
        blocks = num_blocks(image_size)
        widths = _widths(ndf, blocks)

        def conv(w_in: int, w_out: int, stride: int, pad: int) -> nn.Module:
            layer = nn.Conv2d(w_in, w_out, 4, stride, pad, bias=False)
            return _spectral_norm(layer) if spectral_norm else layer

        layers: list[nn.Module] = [conv(channels, widths[0], 2, 1), nn.LeakyReLU(0.2, inplace=True)]
        for w_in, w_out in itertools.pairwise(widths):
            layers.append(conv(w_in, w_out, 2, 1))
            if not spectral_norm:
                layers.append(nn.BatchNorm2d(w_out))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
        layers += [conv(widths[-1], 1, 1, 0), nn.Flatten(0)]
        super().__init__(*layers)
        self.feature_width = widths[-1]

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The ``(N, feature_width, 4, 4)`` activations the final logit is computed from."""
        for layer in itertools.islice(self, len(self) - 2):
            x = layer(x)
        return x

    def logit(self, features: torch.Tensor) -> torch.Tensor:
        """The unconditional logit ``(N,)`` from :meth:`features`."""
        return self[-1](self[-2](features))


class ConditionalBatchNorm2d(nn.Module):
    """BatchNorm whose scale and shift are looked up per class (de Vries et al. 2017;
    Miyato & Koyama 2018): ``x -> weight[y] * BN(x) + bias[y]``."""

    def __init__(self, num_features: int, num_classes: int) -> None:
        super().__init__()
        self.bn = nn.BatchNorm2d(num_features, affine=False)
        self.weight = nn.Parameter(torch.ones(num_classes, num_features))
        self.bias = nn.Parameter(torch.zeros(num_classes, num_features))

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        scale = self.weight[y].view(len(y), -1, 1, 1)
        shift = self.bias[y].view(len(y), -1, 1, 1)
        return self.bn(x) * scale + shift


def _weight(m: nn.Module) -> torch.Tensor:
    """The trainable weight tensor (the one under a parametrisation, if any)."""
    if parametrize.is_parametrized(m, "weight"):
        return m.parametrizations.weight.original  # type: ignore[union-attr,return-value]
    return m.weight  # type: ignore[return-value]


@torch.no_grad()
def _reset_spectral_norm(m: nn.Module, generator: torch.Generator | None) -> None:
    """Redraw the power-iteration vectors of ``m``'s spectral norm from ``generator``
    (torch draws them from the global RNG when the parametrisation is registered)."""
    for p in m.parametrizations.weight:  # type: ignore[union-attr]
        u, v = getattr(p, "_u", None), getattr(p, "_v", None)
        if not (isinstance(u, torch.Tensor) and isinstance(v, torch.Tensor)):
            continue
        u.copy_(
            F.normalize(randn(*u.shape, generator=generator, device=u.device), dim=0, eps=p.eps)
        )
        v.copy_(
            F.normalize(randn(*v.shape, generator=generator, device=v.device), dim=0, eps=p.eps)
        )
        weight = _weight(m)
        p._power_method(p._reshape_weight_to_matrix(weight), 15)


def init_weights(module: nn.Module, generator: torch.Generator | None = None) -> None:
    """DCGAN init: conv weights N(0, 0.02); BatchNorm (and class-conditional BatchNorm)
    weights N(1, 0.02), biases 0; embeddings N(0, 0.02); spectral-norm vectors redrawn."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d | nn.ConvTranspose2d | nn.Embedding):
            normal_(_weight(m), 0.0, 0.02, generator)
            if parametrize.is_parametrized(m, "weight"):
                _reset_spectral_norm(m, generator)
        elif isinstance(m, nn.BatchNorm2d):
            if m.affine:
                normal_(m.weight, 1.0, 0.02, generator)
                nn.init.zeros_(m.bias)
            m.reset_running_stats()
        elif isinstance(m, ConditionalBatchNorm2d):
            normal_(m.weight, 1.0, 0.02, generator)
            nn.init.zeros_(m.bias)
