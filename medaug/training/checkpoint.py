"""``model.pt``: weights plus everything needed to rebuild and apply the model.

The file is a plain dict loadable with ``torch.load(path, weights_only=True)``; the
network is rebuilt through :func:`medaug.create_classifier`, never by importing a
plugin by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import torch
from torch import nn

from medaug import limits
from medaug._version import __version__
from medaug.atomic import atomic_path
from medaug.errors import MedaugError
from medaug.plugins import create_classifier
from medaug.safeload import check_network_size, load_torch_file
from medaug.training.normalize import Normalizer

FORMAT = "medaug-classifier/1"


@dataclass(frozen=True)
class ClassifierInfo:
    """What ``model.pt`` records besides the weights: how to rebuild the network
    (``classifier`` name and its ``options``, ``classes``, ``image_size``, ``channels``)
    and how to apply it (``normalizer``, decision ``threshold``, ``positive_class`` of a
    binary problem); ``extra`` is stored as given (e.g. an experiment's arm and seed)."""

    classifier: str
    options: dict[str, Any]
    classes: list[str]
    image_size: int
    channels: int
    normalizer: Normalizer
    threshold: float
    positive_class: str | None = None
    extra: dict[str, Any] | None = None


def save_checkpoint(path: Path, model: nn.Module, info: ClassifierInfo) -> Path:
    """Write ``model.pt`` atomically: ``model``'s weights and ``info``."""
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    payload = {
        "format": FORMAT,
        "medaug_version": __version__,
        "classifier": info.classifier,
        "options": dict(info.options),
        "classes": list(info.classes),
        "image_size": int(info.image_size),
        "channels": int(info.channels),
        "normalization": info.normalizer.to_dict(),
        "threshold": float(info.threshold),
        "positive_class": info.positive_class,
        "extra": dict(info.extra or {}),
        "state_dict": state,
    }
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return path


def load_checkpoint(
    path: Path, *, device: torch.device | None = None
) -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild the model of ``model.pt``; returns ``(model, metadata)`` (model in eval mode).
    Its sizes are bounded (:mod:`medaug.limits`) and its options must describe the
    network its weights fit, before anything is allocated."""
    payload = load_torch_file(path, "model file")
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise MedaugError(f"{path} is not a medaug classifier checkpoint ({FORMAT})")
    options = payload.get("options")
    if not isinstance(options, dict):
        raise MedaugError(f"{path}: its classifier options are not a mapping")
    loading = sorted(set(options) & {"checkpoint", "checkpoint_path", "pretrained"})
    if loading:
        raise MedaugError(
            f"{path} asks to load other files or weights ({', '.join(loading)}); a model.pt "
            "holds its own weights: refusing it"
        )
    source = f"in model file {path}"
    build = partial(
        create_classifier,
        payload["classifier"],
        num_classes=limits.class_count(len(payload.get("classes") or ()), source),
        in_chans=limits.channels(payload.get("channels"), source),
        image_size=limits.image_size(payload.get("image_size"), source),
        **options,
    )
    check_network_size(build, payload.get("state_dict") or {}, f"model file {path}")
    model = build()
    model.load_state_dict(payload["state_dict"])
    model.to(device or torch.device("cpu")).eval()
    meta = {k: v for k, v in payload.items() if k != "state_dict"}
    return model, meta
