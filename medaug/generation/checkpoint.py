"""Generator checkpoints: atomic, self-describing, readable with ``weights_only=True``.

A checkpoint holds the generator's own state (networks, optimisers, RNG states, epoch;
see :meth:`medaug.contracts.generator.Generator.state_dict`) plus what medaug needs to
rebuild and use it: the generator name and options, image size and channels, the class
it models, the training settings, the loss history and the output pixel format.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from medaug import limits
from medaug._version import __version__
from medaug.atomic import atomic_path
from medaug.digests import sha256_file
from medaug.errors import MedaugError
from medaug.safeload import first_line, load_torch_file

CHECKPOINT_FORMAT = "medaug-generator-checkpoint"
CHECKPOINT_VERSION = 1


@dataclass(frozen=True)
class CheckpointInfo:
    """What a checkpoint says about itself (everything but the weights)."""

    generator: str
    generator_options: dict[str, Any]
    image_size: int
    channels: int
    class_name: str
    class_names: list[str]
    seed: int
    epochs: int
    epochs_done: int
    batch_size: int
    complete: bool
    output_format: str  # "png" | "dicom"
    bit_depth: int
    history: dict[str, list[float]]


def save_checkpoint(
    path: Path, info: CheckpointInfo, state: Mapping[str, Any], *, digest: bool = True
) -> str:
    """Write ``info`` + generator ``state`` atomically to ``path``; return its SHA-256
    (``""`` when ``digest`` is false)."""
    payload = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "medaug_version": __version__,
        "saved": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "info": {
            "generator": info.generator,
            "generator_options": dict(info.generator_options),
            "image_size": info.image_size,
            "channels": info.channels,
            "class_name": info.class_name,
            "class_names": list(info.class_names),
            "seed": info.seed,
            "epochs": info.epochs,
            "epochs_done": info.epochs_done,
            "batch_size": info.batch_size,
            "complete": info.complete,
            "output_format": info.output_format,
            "bit_depth": info.bit_depth,
            "history": {k: list(v) for k, v in info.history.items()},
        },
        "state": dict(state),
    }
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return sha256_file(path) if digest else ""


def load_checkpoint(path: Path) -> tuple[CheckpointInfo, dict[str, Any]]:
    """Read a checkpoint with ``torch.load(weights_only=True)`` onto the CPU. Its sizes
    (image size, channels, classes, batch size, bit depth) are checked against
    :mod:`medaug.limits` before anything is built from it."""
    payload = load_torch_file(path, "checkpoint")
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise MedaugError(f"{path} is not a medaug generator checkpoint")
    if payload.get("version") != CHECKPOINT_VERSION:
        raise MedaugError(
            f"checkpoint {path} has version {payload.get('version')!r}; this medaug reads "
            f"version {CHECKPOINT_VERSION}"
        )
    try:
        info = _info(payload["info"], f"in checkpoint {path}")
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise MedaugError(
            f"checkpoint {path} is incomplete or malformed ({first_line(exc)})"
        ) from exc
    state = payload.get("state")
    if not isinstance(state, dict):
        raise MedaugError(f"checkpoint {path} holds no generator state")
    return info, state


def _info(raw: dict[str, Any], source: str) -> CheckpointInfo:
    """The :class:`CheckpointInfo` of a checkpoint's ``info``, every size bounded."""
    limits.image_size(raw["image_size"], source)
    limits.channels(raw["channels"], source)
    limits.batch_size(raw["batch_size"], source)
    limits.bounded(raw["bit_depth"], f"bit_depth {source}", low=1, high=16)
    limits.class_count(max(1, len(raw["class_names"])), source)
    return CheckpointInfo(
        generator=str(raw["generator"]),
        generator_options=dict(raw["generator_options"]),
        image_size=int(raw["image_size"]),
        channels=int(raw["channels"]),
        class_name=str(raw["class_name"]),
        class_names=[str(c) for c in raw["class_names"]],
        seed=int(raw["seed"]),
        epochs=int(raw["epochs"]),
        epochs_done=int(raw["epochs_done"]),
        batch_size=int(raw["batch_size"]),
        complete=bool(raw["complete"]),
        output_format=str(raw["output_format"]),
        bit_depth=int(raw["bit_depth"]),
        history={str(k): [float(x) for x in v] for k, v in raw["history"].items()},
    )


def build_generator(
    info: CheckpointInfo, device: torch.device, state: Mapping[str, Any] | None = None
) -> Any:
    """Recreate the generator a checkpoint describes (through the plugin registry)."""
    from medaug.plugins import create_generator

    gen = create_generator(
        info.generator,
        image_size=info.image_size,
        channels=info.channels,
        device=device,
        num_classes=max(1, len(info.class_names)),
        **info.generator_options,
    )
    if state is not None:
        gen.load_state_dict(state)
    return gen
