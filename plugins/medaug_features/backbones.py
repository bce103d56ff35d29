"""``timm:<model>`` and ``torchvision:<model>`` extractors from a local weights file.

The network is built without weights, its classification head removed, then the state
dict of ``--weights FILE`` is loaded (every weight of the network must be in the file;
head weights in it are ignored). The file's SHA-256 is recorded: it identifies the
extractor, and figures made with different weights are not comparable. Nothing is
downloaded.

Images are mapped from ``[-1, 1]`` to ``[0, 1]``, given the number of channels the first
convolution takes (grey repeated to RGB, RGB averaged to grey), resized to
``input_size`` when given, and normalised with ``mean``/``std`` (by default the model's
own for timm, ImageNet's for torchvision). A torchxrayvision-style network (a DenseNet
taking one channel) loads into ``torchvision:densenet121``: its one-channel first
convolution is adopted from the weights; pass its input scaling as ``mean``/``std``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import nn

from medaug.contracts.features import FeatureExtractor
from medaug.digests import sha256_file
from medaug.errors import MedaugError
from medaug_features.weights import load_state_dict, require_weights

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class BackboneFeatures(nn.Module):
    """Preprocessing plus a headless network: ``[-1, 1]`` images to pooled features."""

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(
        self,
        net: nn.Module,
        *,
        in_chans: int,
        num_features: int,
        mean: Sequence[float],
        std: Sequence[float],
        input_size: int | None,
    ) -> None:
        super().__init__()
        self.net = net
        self.in_chans = in_chans
        self.num_features = num_features
        self.input_size = input_size
        self.register_buffer(
            "mean", torch.tensor(list(mean), dtype=torch.float32).view(1, -1, 1, 1)
        )
        self.register_buffer("std", torch.tensor(list(std), dtype=torch.float32).view(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = (x.float() + 1.0) / 2.0
        if x.shape[1] != self.in_chans:
            x = x.expand(-1, 3, -1, -1) if self.in_chans == 3 else x.mean(dim=1, keepdim=True)
        if self.input_size is not None and x.shape[-1] != self.input_size:
            size = (self.input_size, self.input_size)
            x = F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=True)
        x = (x - self.mean) / self.std
        return self.net(x).flatten(1)


def _check_channel_stats(values: Sequence[float] | None, in_chans: int, what: str) -> list[float]:
    if values is None:
        raise MedaugError(f"{what} missing")
    out = [float(v) for v in values]
    if len(out) == 3 and in_chans == 1:
        out = [sum(out) / 3.0]
    if len(out) == 1 and in_chans == 3:
        out = out * 3
    if len(out) != in_chans:
        raise MedaugError(f"{what} must have 1 or {in_chans} values, got {len(out)}")
    return out


def _load_into(net: nn.Module, state: dict[str, torch.Tensor], name: str) -> None:
    """Load ``state`` into ``net``: every weight of ``net`` must be there, extra keys
    (a classification head, thresholds...) are ignored."""
    own = net.state_dict()
    usable = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    missing = [k for k in own if k not in usable]
    if missing:
        wrong = [k for k in missing if k in state]
        detail = f"{len(missing)} of {len(own)} weights missing, e.g. {missing[0]!r}"
        if wrong:
            detail += f" ({len(wrong)} with another shape)"
        raise MedaugError(f"weights do not fit extractor {name!r}: {detail}")
    net.load_state_dict(usable, strict=True)


@dataclass(frozen=True)
class Preprocessing:
    """How images are prepared for a backbone, an option group of the timm and
    torchvision extractors (its fields are the options ``input_size``, ``mean`` and
    ``std``).

    ``input_size``: the side images are resized to (``None``: kept as they are);
    ``mean``/``std``: the per-channel normalisation (``None``: the model's own for timm,
    ImageNet's for torchvision).
    """

    input_size: int | None = None
    mean: Sequence[float] | None = None
    std: Sequence[float] | None = None


class _Backbone(FeatureExtractor):
    """Shared part of the timm and torchvision extractors."""

    family = ""

    def __init__(
        self,
        *,
        variant: str,
        image_size: int,
        channels: int,
        device: torch.device | str = "cpu",
        weights: str | Path | None = None,
        preprocessing: Preprocessing = Preprocessing(),
    ) -> None:
        input_size, mean, std = preprocessing.input_size, preprocessing.mean, preprocessing.std
        self.name = f"{self.family}:{variant}"
        path = require_weights(self.name, weights)
        self.image_size = image_size
        self.channels = channels
        self.device = torch.device(device)
        if input_size is not None and (not isinstance(input_size, int) or input_size < 8):
            raise MedaugError(f"{self.name}: input_size must be an integer >= 8")
        self.weights_path = path.resolve()
        self.sha256 = sha256_file(path)
        state = load_state_dict(path)
        net, in_chans, num_features, default_mean, default_std = self._build(variant, state)
        _load_into(net, state, self.name)
        self._module = BackboneFeatures(
            net,
            in_chans=in_chans,
            num_features=num_features,
            mean=_check_channel_stats(mean or default_mean, in_chans, f"{self.name}: mean"),
            std=_check_channel_stats(std or default_std, in_chans, f"{self.name}: std"),
            input_size=input_size,
        )
        self._module.to(self.device).eval().requires_grad_(False)

    def _build(
        self, variant: str, state: dict[str, torch.Tensor]
    ) -> tuple[nn.Module, int, int, Sequence[float], Sequence[float]]:
        raise NotImplementedError

    @property
    def num_features(self) -> int:
        return int(self._module.num_features)

    def module(self) -> nn.Module:
        return self._module

    def cache_token(self) -> str:
        return f"{self.name}:{self.sha256}"

    def describe(self) -> dict[str, Any]:
        m = self._module
        return {
            "network": self.name,
            "weights": str(self.weights_path),
            "weights_sha256": self.sha256,
            "in_chans": m.in_chans,
            "input_size": m.input_size or self.image_size,
            "mean": [round(float(v), 6) for v in m.mean.flatten()],
            "std": [round(float(v), 6) for v in m.std.flatten()],
        }


class TimmExtractor(_Backbone):
    """Any timm model's pooled features (``timm:resnet18``), weights from a local file."""

    family = "timm"

    def _build(
        self, variant: str, state: dict[str, torch.Tensor]
    ) -> tuple[nn.Module, int, int, Sequence[float], Sequence[float]]:
        import timm
        from timm.models import get_pretrained_cfg_value

        if not timm.is_model(variant):
            close = timm.list_models(f"*{variant}*")[:8]
            hint = f" (similar: {', '.join(close)})" if close else ""
            raise MedaugError(f"timm has no model {variant!r}{hint}")
        first = get_pretrained_cfg_value(variant, "first_conv") or ""
        first_weight = state.get(f"{first}.weight")
        in_chans = int(first_weight.shape[1]) if first_weight is not None else 3
        try:
            net = timm.create_model(variant, pretrained=False, num_classes=0, in_chans=in_chans)
        except Exception as exc:
            raise MedaugError(f"{self.name}: could not build the model: {exc}") from exc
        mean = get_pretrained_cfg_value(variant, "mean") or IMAGENET_MEAN
        std = get_pretrained_cfg_value(variant, "std") or IMAGENET_STD
        return net, in_chans, int(cast(int, net.num_features)), mean, std


def _set_module(root: nn.Module, name: str, module: nn.Module) -> None:
    parent, _, child = name.rpartition(".")
    setattr(root.get_submodule(parent) if parent else root, child, module)


class TorchvisionExtractor(_Backbone):
    """Any torchvision classification model's penultimate features (``torchvision:resnet50``),
    weights from a local file."""

    family = "torchvision"

    def _build(
        self, variant: str, state: dict[str, torch.Tensor]
    ) -> tuple[nn.Module, int, int, Sequence[float], Sequence[float]]:
        import torchvision

        if variant not in torchvision.models.list_models(module=torchvision.models):
            raise MedaugError(f"torchvision has no classification model {variant!r}")
        net = torchvision.models.get_model(variant, weights=None)
        linears = [(n, m) for n, m in net.named_modules() if isinstance(m, nn.Linear)]
        if not linears:
            raise MedaugError(f"{self.name}: no final linear layer to take features before")
        head_name, head = linears[-1]
        _set_module(net, head_name, nn.Identity())
        convs = [(n, m) for n, m in net.named_modules() if isinstance(m, nn.Conv2d)]
        in_chans = 3
        if convs:
            conv_name, conv = convs[0]
            weight = state.get(f"{conv_name}.weight")
            if weight is not None and weight.ndim == 4 and weight.shape[1] != conv.in_channels:
                in_chans = int(weight.shape[1])
                _set_module(net, conv_name, _with_in_channels(conv, in_chans))
        return net, in_chans, int(head.in_features), IMAGENET_MEAN, IMAGENET_STD


def _with_in_channels(conv: nn.Conv2d, in_chans: int) -> nn.Conv2d:
    """A copy of ``conv`` taking ``in_chans`` input channels (weights loaded later)."""
    return nn.Conv2d(
        in_chans,
        conv.out_channels,
        conv.kernel_size,  # type: ignore[arg-type]
        stride=conv.stride,  # type: ignore[arg-type]
        padding=conv.padding,  # type: ignore[arg-type]
        dilation=conv.dilation,  # type: ignore[arg-type]
        groups=conv.groups,
        bias=conv.bias is not None,
    )


__all__ = ["BackboneFeatures", "Preprocessing", "TimmExtractor", "TorchvisionExtractor"]
