"""Building, training (cached) and running a feature extractor for an audit.

A trainable extractor (the ``domain`` one) is fitted on the real images once: its state
is cached under ``<cache dir>/feature-extractors-v1/<key>.pt``, where the key digests
the extractor's name and options, the seed and a fingerprint of the real images' pixels,
so the next audit of the same images starts in seconds.
"""

from __future__ import annotations

import hashlib
import io
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from medaug.atomic import atomic_write_bytes
from medaug.contracts.features import FeatureExtractor
from medaug.data.cache import cache_root, digest
from medaug.errors import MedaugError

CACHE_DIR = "feature-extractors-v1"
DEFAULT_EXTRACTOR = "domain"


def images_fingerprint(images: torch.Tensor) -> str:
    """SHA-256 of the shape and pixels of ``images`` (what a trained extractor saw)."""
    h = hashlib.sha256(repr(tuple(images.shape)).encode())
    h.update(np.ascontiguousarray(images.detach().cpu().numpy()).tobytes())
    return h.hexdigest()


def _update_hash(h: Any, value: Any) -> None:
    if isinstance(value, Mapping):
        for key in sorted(value, key=str):
            h.update(f"<{key}>".encode())
            _update_hash(h, value[key])
    elif isinstance(value, torch.Tensor):
        t = value.detach().cpu().contiguous()
        h.update(f"{t.dtype}{tuple(t.shape)}".encode())
        h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    else:
        h.update(repr(value).encode())


def _state_sha256(state: Mapping[str, Any]) -> str:
    """SHA-256 of a state dict's keys, tensors (dtype, shape, bytes) and other values."""
    h = hashlib.sha256()
    _update_hash(h, state)
    return h.hexdigest()


@dataclass
class PreparedExtractor:
    """A ready-to-use extractor and what identifies it.

    ``sha256`` identifies the exact weights (the learned state, or the weights file):
    audits with different ``name`` or ``sha256`` are not comparable.
    """

    name: str
    extractor: FeatureExtractor
    sha256: str
    info: dict[str, Any] = field(default_factory=dict)
    #: the trained state came from the cache
    cached: bool = False
    fit_seconds: float = 0.0

    @property
    def label(self) -> str:
        """``name`` with the first 12 hex digits of ``sha256``."""
        return f"{self.name} ({self.sha256[:12]})" if self.sha256 else self.name

    def features(self, images: torch.Tensor, *, batch_size: int = 256) -> torch.Tensor:
        """``(N, num_features)`` float64 CPU features of ``(N, C, H, W)`` images in ``[-1, 1]``."""
        module = self.extractor.module().eval()
        device = self.extractor.device
        parts: list[torch.Tensor] = []
        with torch.inference_mode():
            for start in range(0, len(images), batch_size):
                batch = images[start : start + batch_size].to(device, torch.float32)
                parts.append(module(batch).double().cpu())
        if not parts:
            return torch.zeros((0, self.extractor.num_features), dtype=torch.float64)
        out = torch.cat(parts)
        if not torch.isfinite(out).all():
            raise MedaugError(f"extractor {self.name!r} produced non-finite features")
        return out

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "sha256": self.sha256, "cached": self.cached, **self.info}

    def save(self, path: Path) -> None:
        """Write the extractor's learned state and provenance next to an audit (a
        ``weights_only`` loadable ``.pt``)."""
        buf = io.BytesIO()
        torch.save(
            {"name": self.name, "info": self.to_json(), "state": self.extractor.state_dict()}, buf
        )
        atomic_write_bytes(path, buf.getvalue())


@dataclass(frozen=True)
class ExtractorSpec:
    """Which extractor an audit uses: a registered name, a local weights file, options."""

    name: str = DEFAULT_EXTRACTOR
    weights: Path | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    def prepare(
        self,
        real: torch.Tensor,
        *,
        seed: int = 0,
        device: torch.device | str = "cpu",
        cache_dir: Path | str | None = None,
    ) -> PreparedExtractor:
        """:func:`prepare_extractor` with this spec."""
        return prepare_extractor(self, real=real, seed=seed, device=device, cache_dir=cache_dir)


def build_extractor(
    name: str,
    *,
    image_size: int,
    channels: int,
    device: torch.device | str = "cpu",
    weights: str | Path | None = None,
    options: Mapping[str, Any] | None = None,
) -> FeatureExtractor:
    """Build the registered extractor ``name`` (``weights`` and ``options`` passed on)."""
    from medaug.plugins import create_feature_extractor

    kwargs = dict(options or {})
    if weights is not None:
        kwargs["weights"] = str(weights)
    try:
        return create_feature_extractor(
            name, image_size=image_size, channels=channels, device=device, **kwargs
        )
    except TypeError as exc:
        given = ", ".join(sorted(kwargs)) or "none"
        raise MedaugError(
            f"extractor {name!r} does not accept these options ({given}): {exc}"
        ) from None


def _cache_path(
    extractor: FeatureExtractor,
    name: str,
    fingerprint: str,
    seed: int,
    cache_dir: Path | str | None,
) -> Path:
    key = digest(name, extractor.cache_token(), fingerprint, seed)
    return cache_root(cache_dir) / CACHE_DIR / f"{key}.pt"


def _load_cached(extractor: FeatureExtractor, path: Path) -> bool:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        extractor.load_state_dict(state)
    except FileNotFoundError:
        return False
    except Exception:
        return False  # unreadable or stale: retrain and overwrite
    return True


def _store(extractor: FeatureExtractor, path: Path) -> None:
    buf = io.BytesIO()
    torch.save(extractor.state_dict(), buf)
    try:
        atomic_write_bytes(path, buf.getvalue())
    except OSError as exc:
        from medaug.console import warn

        warn(f"could not cache the trained extractor in {path.parent}: {exc}")


def prepare_extractor(
    spec: ExtractorSpec | None = None,
    *,
    real: torch.Tensor,
    seed: int = 0,
    device: torch.device | str = "cpu",
    cache_dir: Path | str | None = None,
    use_cache: bool = True,
) -> PreparedExtractor:
    """Build the extractor of ``spec`` (its name, weights and options; default: the
    ``domain`` one) for images like ``real`` and, when it is trainable, fit it on
    ``real`` (or restore the cached fit for these exact pixels, options and seed)."""
    spec = ExtractorSpec() if spec is None else spec
    name = spec.name
    if real.ndim != 4 or real.shape[-1] != real.shape[-2]:
        raise MedaugError(f"expected square (N, C, H, W) images, got {tuple(real.shape)}")
    extractor = build_extractor(
        name,
        image_size=int(real.shape[-1]),
        channels=int(real.shape[1]),
        device=device,
        weights=spec.weights,
        options=spec.options,
    )
    cached = False
    seconds = 0.0
    info = dict(extractor.describe())
    if extractor.trainable:
        fingerprint = images_fingerprint(real)
        path = _cache_path(extractor, name, fingerprint, seed, cache_dir)
        cached = use_cache and _load_cached(extractor, path)
        if not cached:
            start = time.perf_counter()
            extractor.fit(real.detach().cpu(), seed=seed)
            seconds = time.perf_counter() - start
            if use_cache:
                _store(extractor, path)
        info = {**extractor.describe(), "trained_on_sha256": fingerprint, "seed": seed}
        sha = _state_sha256(extractor.state_dict())
    else:
        sha = str(info.get("weights_sha256", "")) or _state_sha256(extractor.state_dict())
    return PreparedExtractor(
        name=name, extractor=extractor, sha256=sha, info=info, cached=cached, fit_seconds=seconds
    )


__all__ = [
    "DEFAULT_EXTRACTOR",
    "ExtractorSpec",
    "PreparedExtractor",
    "build_extractor",
    "images_fingerprint",
    "prepare_extractor",
]
