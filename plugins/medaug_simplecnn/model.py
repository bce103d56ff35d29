"""The ``simple-cnn`` network: conv blocks with BatchNorm, pooling, dropout, linear head."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from medaug.errors import MedaugError


def _block(cin: int, cout: int, dropout: float, convs: int) -> nn.Sequential:
    """``convs`` 3x3 convolutions (BN + ReLU each), 2x2 max pooling, spatial dropout."""
    layers: list[nn.Module] = []
    for i in range(convs):
        layers += [
            nn.Conv2d(cin if i == 0 else cout, cout, 3, padding=1, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True),
        ]
    layers.append(nn.MaxPool2d(2))
    if dropout > 0:
        layers.append(nn.Dropout2d(dropout))
    return nn.Sequential(*layers)


class SimpleCNN(nn.Module):
    """A small CNN classifier for any input size and channel count."""

    def __init__(
        self,
        *,
        num_classes: int,
        in_chans: int,
        widths: Sequence[int] = (16, 32, 64, 128, 256),
        dropout: float = 0.4,
        block_dropout: float = 0.0,
        convs_per_block: int = 1,
    ) -> None:
        super().__init__()
        blocks: list[nn.Module] = []
        cin = in_chans
        for width in widths:
            blocks.append(_block(cin, int(width), block_dropout, convs_per_block))
            cin = int(width)
        self.features = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(dropout),
            nn.Linear(cin, cin // 2),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(cin // 2, num_classes),
        )
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(N, num_classes)`` for a batch ``(N, in_chans, H, W)``."""
        return self.head(self.pool(self.features(x)))


@dataclass(frozen=True)
class SimpleCNNOptions:
    """The network's own options (``-O widths=...``), an option group of
    :func:`build_simple_cnn` (:mod:`medaug.registry` lists and checks each field).

    ``widths`` sets one block per entry (each halves the resolution), as a sequence or a
    string such as ``"16,32,64"``; ``dropout`` is the head's, ``block_dropout`` spatial
    dropout after each block (slow on CPU); ``convs_per_block`` 3x3 convolutions per block.
    """

    widths: Sequence[int] | str = (16, 32, 64, 128, 256)
    dropout: float = 0.4
    block_dropout: float = 0.0
    convs_per_block: int = 1


def build_simple_cnn(
    *,
    num_classes: int,
    in_chans: int,
    image_size: int = 64,
    pretrained: bool = False,
    network: SimpleCNNOptions = SimpleCNNOptions(),
    **options: Any,
) -> SimpleCNN:
    """A small CNN (conv blocks with BatchNorm, pooling, dropout, linear head).

    ``network`` (:class:`SimpleCNNOptions`; through the registry, its fields are the
    options ``widths``, ``dropout``, ``block_dropout`` and ``convs_per_block``) shapes
    the network. Blocks that would shrink the image below 1 px are dropped, so 16 px
    inputs work too. The defaults (one convolution per block, 16-256 channels, dropout
    only in the head) are sized for CPU training: about 0.1-0.3 s per batch of 64 images
    at 64 px on two cores. ``pretrained`` is refused: there are no published weights for
    this network.
    """
    if options:
        raise MedaugError(f"simple-cnn: unknown option(s) {', '.join(sorted(options))}")
    if pretrained:
        raise MedaugError("simple-cnn has no pretrained weights; drop --pretrained")
    if num_classes < 2 or in_chans < 1 or image_size < 2:
        raise MedaugError(
            f"simple-cnn: need num_classes >= 2, in_chans >= 1, image_size >= 2 "
            f"(got {num_classes}, {in_chans}, {image_size})"
        )
    widths = network.widths
    if isinstance(widths, str):
        widths = [int(w) for w in widths.replace(",", " ").split()]
    max_blocks = max(1, int(image_size).bit_length() - 1)
    return SimpleCNN(
        num_classes=num_classes,
        in_chans=in_chans,
        widths=tuple(widths)[:max_blocks],
        dropout=network.dropout,
        block_dropout=network.block_dropout,
        convs_per_block=int(network.convs_per_block),
    )
