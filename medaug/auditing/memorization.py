"""Memorization screen: is a synthetic image a near-copy of a training image?

Pixel space: both images are blurred a little (``blur_sigma``, so pixel noise and JPEG
artefacts do not hide a copy), then the central crop of the synthetic image is slid over
the training image by up to ``max_shift`` pixels in each direction and the highest
normalised cross-correlation (Pearson over the overlap) is the similarity: 1.0 for the
same picture, whatever its brightness, contrast or a few pixels of shift. Every
synthetic image is compared exactly, using FFTs, with the ``candidates`` training images
most alike by each of three cheap criteria: the same sliding correlation on 16x16
versions (shifts scaled down), the low-frequency Fourier magnitude spectrum (blind to
shifts, which move only the phase), and feature-space similarity.

Feature space: cosine similarity of the extractor's features, standardised with the
training images' mean and standard deviation.

Threshold (:class:`~medaug.auditing.settings.MemorizationSettings`): each training image's
nearest *other-patient* training image gives the real-to-real nearest-neighbour
similarities; a synthetic image is flagged when it is closer than
``1 - margin * (1 - quantile_q)`` in either space.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from medaug.auditing.settings import MemorizationSettings
from medaug.errors import MedaugError

LOW_RES = 16
#: low frequencies kept in each direction for the shift-blind spectrum descriptor
MAX_FREQUENCIES = 12
PAIR_CHUNK = 256
BLUR_CHUNK = 64
ROW_CHUNK = 1024


@dataclass(frozen=True)
class NearestMatch:
    """A synthetic image's nearest training image (pixel space) and feature-space neighbour."""

    synthetic: int
    train: int
    similarity: float
    feature_train: int | None = None
    feature_similarity: float | None = None
    #: ``"pixel"`` and/or ``"feature"`` when flagged as a near-copy
    flagged_by: tuple[str, ...] = ()

    @property
    def flagged(self) -> bool:
        return bool(self.flagged_by)


def _quantiles(values: np.ndarray) -> dict[str, float]:
    if values.size == 0:
        return {}
    q = np.quantile(values, [0.0, 0.5, 0.99, 1.0])
    return {"min": float(q[0]), "median": float(q[1]), "p99": float(q[2]), "max": float(q[3])}


@dataclass(frozen=True)
class MemorizationResult:
    """The screen's outcome for one synthetic set."""

    threshold: float
    feature_threshold: float | None
    #: real-to-real nearest-neighbour similarities (pixel, feature) summarised
    real_nearest: dict[str, float]
    real_nearest_feature: dict[str, float]
    #: one entry per synthetic image, in input order
    nearest: tuple[NearestMatch, ...]

    @property
    def flagged(self) -> list[NearestMatch]:
        """Flagged images, closest first."""
        hits = [m for m in self.nearest if m.flagged]
        return sorted(hits, key=lambda m: (-m.similarity, m.synthetic))

    @property
    def flagged_indices(self) -> list[int]:
        """Indices (into the synthetic set) of the flagged images, ascending."""
        return sorted(m.synthetic for m in self.nearest if m.flagged)

    def closest(self, n: int) -> list[NearestMatch]:
        """The ``n`` synthetic images most similar to a training image (pixel space)."""
        return sorted(self.nearest, key=lambda m: (-m.similarity, m.synthetic))[:n]

    def to_json(
        self, synthetic_ids: Sequence[str] | None = None, train_ids: Sequence[str] | None = None
    ) -> dict[str, Any]:
        def sid(i: int) -> str:
            return synthetic_ids[i] if synthetic_ids is not None else str(i)

        def tid(i: int) -> str:
            return train_ids[i] if train_ids is not None else str(i)

        flagged = []
        for m in self.flagged:
            pixel = "pixel" in m.flagged_by
            train = m.train if pixel or m.feature_train is None else m.feature_train
            entry: dict[str, Any] = {
                "synthetic": sid(m.synthetic),
                "train": tid(train),
                "similarity": round(m.similarity, 6),
                "space": "+".join(m.flagged_by),
            }
            if m.feature_similarity is not None:
                entry["feature_similarity"] = round(m.feature_similarity, 6)
            flagged.append(entry)
        sims = np.array([m.similarity for m in self.nearest])
        return {
            "threshold": round(self.threshold, 6),
            "feature_threshold": None
            if self.feature_threshold is None
            else round(self.feature_threshold, 6),
            "flagged": flagged,
            "n_flagged": len(flagged),
            "real_nearest": {k: round(v, 6) for k, v in self.real_nearest.items()},
            "real_nearest_feature": {k: round(v, 6) for k, v in self.real_nearest_feature.items()},
            "synthetic_nearest": {k: round(v, 6) for k, v in _quantiles(sims).items()},
        }


def _blur(images: torch.Tensor, sigma: float) -> torch.Tensor:
    images = images.float()
    if sigma <= 0:
        return images
    from torchvision.transforms.v2.functional import gaussian_blur

    size = 2 * math.ceil(3 * sigma) + 1
    size = min(size, images.shape[-1] - (1 - images.shape[-1] % 2))
    # in chunks: the convolution's workspace grows with the batch (1 GB for 1,349 at 64 px)
    return torch.cat(
        [
            gaussian_blur(
                images[i : i + BLUR_CHUNK], kernel_size=[size, size], sigma=[sigma, sigma]
            )
            for i in range(0, len(images), BLUR_CHUNK)
        ]
    )


def _unit_rows(x: torch.Tensor) -> torch.Tensor:
    x = x.flatten(1).double()
    x = x - x.mean(dim=1, keepdim=True)
    return x / x.norm(dim=1, keepdim=True).clamp_min(1e-12)


def _spectrum(images: torch.Tensor) -> torch.Tensor:
    """Unit rows of the log magnitude of the lowest spatial frequencies: the same for a
    shifted copy (a shift changes only the phase), blind to brightness offsets."""
    size = images.shape[-1]
    keep = max(2, min(MAX_FREQUENCIES, size // 4))
    centred = images - images.mean(dim=(2, 3), keepdim=True)
    magnitude = torch.fft.rfft2(centred).abs()
    low = torch.cat(
        [magnitude[..., :keep, :keep], magnitude[..., size - keep + 1 :, :keep]], dim=-2
    )
    return _unit_rows(torch.log1p(low)).float()


def _group_ids(groups: Sequence[str] | None, n: int) -> torch.Tensor:
    if groups is None:
        return torch.arange(n)
    if len(groups) != n:
        raise MedaugError(f"{len(groups)} patient ids given for {n} training images")
    _, inverse = np.unique(np.asarray(groups, dtype=object).astype(str), return_inverse=True)
    return torch.from_numpy(inverse.astype(np.int64))


def _best(
    queries: torch.Tensor,
    keys: torch.Tensor,
    k: int,
    query_groups: torch.Tensor | None,
    key_groups: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Top-``k`` cosine similarities of unit rows ``queries`` ``(Q, D)`` to ``keys``
    ``(S, N, D)`` (``S`` views of every key; the best view counts), excluding same-group
    pairs when ``query_groups`` is given: values and indices, ``-inf`` where none is allowed."""
    k = min(k, keys.shape[1])
    values, indices = [], []
    for start in range(0, len(queries), ROW_CHUNK):
        q = queries[start : start + ROW_CHUNK]
        sims = q @ keys[0].T
        for view in keys[1:]:
            sims = torch.maximum(sims, q @ view.T)
        if query_groups is not None:
            same = query_groups[start : start + ROW_CHUNK, None] == key_groups[None, :]
            sims = sims.masked_fill(same, float("-inf"))
        v, i = sims.topk(k, dim=1)
        values.append(v)
        indices.append(i)
    return torch.cat(values), torch.cat(indices)


class _PixelIndex:
    """Training images prepared for shift-tolerant normalised cross-correlation."""

    def __init__(self, train: torch.Tensor, shift: int) -> None:
        size = train.shape[-1]
        self.shift = shift
        self.size = size
        crop = size - 2 * shift
        n = train.shape[1] * crop * crop
        self.fft = torch.fft.rfft2(train)
        window = crop * crop
        s1 = F.avg_pool2d(train, crop, stride=1).double().sum(dim=1) * window
        s2 = F.avg_pool2d(train * train, crop, stride=1).double().sum(dim=1) * window
        self.denominator = (s2 - s1 * s1 / n).clamp_min(1e-12).sqrt().float()
        # candidates: the same sliding correlation on 16x16 versions, one key per offset
        self.low_size = min(LOW_RES, size)
        low_shift = math.ceil(shift * self.low_size / size) if shift else 0
        self.low_shift = max(0, min(low_shift, (self.low_size - 4) // 2))
        low = F.adaptive_avg_pool2d(train, self.low_size)
        crop_low = self.low_size - 2 * self.low_shift
        side = 2 * self.low_shift + 1
        self.low_keys = torch.stack(
            [
                _unit_rows(low[..., dy : dy + crop_low, dx : dx + crop_low]).float()
                for dy in range(side)
                for dx in range(side)
            ]
        )

        self.spectrum = _spectrum(train)

    def low_queries(self, images: torch.Tensor) -> torch.Tensor:
        """Unit rows of the central crops of the 16x16 versions of ``images``."""
        r = self.low_shift
        low = F.adaptive_avg_pool2d(images, self.low_size)
        return _unit_rows(low[..., r : self.low_size - r, r : self.low_size - r]).float()

    def templates(self, images: torch.Tensor) -> torch.Tensor:
        """FFTs of the zero-mean, unit-norm central crops of ``images``."""
        r, size = self.shift, self.size
        crop = images[..., r : size - r, r : size - r]
        crop = crop - crop.mean(dim=(1, 2, 3), keepdim=True)
        crop = crop / crop.flatten(1).norm(dim=1).clamp_min(1e-12)[:, None, None, None]
        return torch.fft.rfft2(crop, s=(size, size))

    def similarity(
        self, templates: torch.Tensor, qi: torch.Tensor, tj: torch.Tensor
    ) -> torch.Tensor:
        """Highest correlation over shifts for the pairs ``(qi[p], tj[p])``."""
        side = 2 * self.shift + 1
        out = []
        for start in range(0, len(qi), PAIR_CHUNK):
            q = qi[start : start + PAIR_CHUNK]
            t = tj[start : start + PAIR_CHUNK]
            product = (self.fft[t] * templates[q].conj()).sum(dim=1)
            corr = torch.fft.irfft2(product, s=(self.size, self.size))[:, :side, :side]
            out.append((corr / self.denominator[t]).flatten(1).amax(dim=1))
        return torch.cat(out).clamp(-1.0, 1.0) if out else torch.zeros(0)


class MemorizationScreen:
    """The training set prepared once; :meth:`screen` then checks any synthetic set
    (what ``balance --reject-memorized`` calls after every resampling round)."""

    def __init__(
        self,
        train: torch.Tensor,
        *,
        settings: MemorizationSettings | None = None,
        train_features: torch.Tensor | None = None,
        groups: Sequence[str] | None = None,
    ) -> None:
        self.settings = settings or MemorizationSettings()
        if train.ndim != 4 or len(train) < 2:
            raise MedaugError(
                f"memorization screen: need >= 2 training images, got {tuple(train.shape)}"
            )
        self.shape = tuple(train.shape[1:])
        self.groups = _group_ids(groups, len(train))
        if len(torch.unique(self.groups)) < 2:
            raise MedaugError(
                "memorization screen: the training images must come from >= 2 patients"
            )
        blurred = _blur(train, self.settings.blur_sigma)
        self.index = _PixelIndex(blurred, self.settings.shift_for(train.shape[-1]))
        self.features: torch.Tensor | None = None
        if train_features is not None:
            if len(train_features) != len(train):
                raise MedaugError("memorization screen: one feature row per training image needed")
            f = train_features.double()
            self._mean, self._std = f.mean(dim=0), f.std(dim=0).clamp_min(1e-12)
            self.features = self._unit_features(f)
        # real-to-real nearest neighbours, other patients only
        pixel_nn, _, feature_nn, _ = self._nearest(blurred, self.features, self.groups)
        self.real_pixel = pixel_nn[torch.isfinite(pixel_nn)].numpy()
        self.real_feature = (
            feature_nn[torch.isfinite(feature_nn)].numpy()
            if feature_nn is not None
            else np.array([])
        )
        q = self.settings.quantile
        self.threshold = self.settings.threshold(float(np.quantile(self.real_pixel, q)))
        self.feature_threshold = (
            self.settings.threshold(float(np.quantile(self.real_feature, q)))
            if self.real_feature.size
            else None
        )

    def _unit_features(self, features: torch.Tensor) -> torch.Tensor:
        return F.normalize((features.double() - self._mean) / self._std, dim=1)

    def _nearest(
        self,
        blurred: torch.Tensor,
        features: torch.Tensor | None,
        query_groups: torch.Tensor | None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        """Nearest training image of every query, in pixel and in feature space."""
        n_cand = self.settings.candidates
        _, low_idx = _best(
            self.index.low_queries(blurred), self.index.low_keys, n_cand, query_groups, self.groups
        )
        _, spectrum_idx = _best(
            _spectrum(blurred), self.index.spectrum[None], n_cand, query_groups, self.groups
        )
        candidates = [low_idx, spectrum_idx]
        feature_sim = feature_idx = None
        if features is not None and self.features is not None:
            top_v, top_i = _best(
                features, self.features[None], max(1, n_cand // 2), query_groups, self.groups
            )
            feature_sim, feature_idx = top_v[:, 0], top_i[:, 0]
            candidates.append(top_i)
        cand = torch.cat(candidates, dim=1)
        if query_groups is not None:
            valid = query_groups[:, None] != self.groups[cand]
        else:
            valid = torch.ones_like(cand, dtype=torch.bool)
        qi = torch.arange(len(blurred))[:, None].expand_as(cand)
        sims = (
            self.index.similarity(self.index.templates(blurred), qi.reshape(-1), cand.reshape(-1))
            .view_as(cand)
            .double()
        )
        sims = sims.masked_fill(~valid, float("-inf"))
        best, where = sims.max(dim=1)
        return best, cand.gather(1, where[:, None])[:, 0], feature_sim, feature_idx

    def screen(
        self, synthetic: torch.Tensor, features: torch.Tensor | None = None
    ) -> MemorizationResult:
        """Nearest training image of every synthetic image, and which ones are copies."""
        if tuple(synthetic.shape[1:]) != self.shape:
            raise MedaugError(
                f"synthetic images {tuple(synthetic.shape[1:])} and training images "
                f"{self.shape} differ in size or channels"
            )
        unit = None
        if features is not None and self.features is not None:
            unit = self._unit_features(features)
        pixel, pixel_idx, feat, feat_idx = self._nearest(
            _blur(synthetic, self.settings.blur_sigma), unit, None
        )
        matches = []
        for i in range(len(synthetic)):
            by: list[str] = []
            if float(pixel[i]) > self.threshold:
                by.append("pixel")
            fs = fi = None
            if feat is not None and feat_idx is not None:
                fs, fi = float(feat[i]), int(feat_idx[i])
                if self.feature_threshold is not None and fs > self.feature_threshold:
                    by.append("feature")
            matches.append(
                NearestMatch(
                    synthetic=i,
                    train=int(pixel_idx[i]),
                    similarity=float(pixel[i]),
                    feature_train=fi,
                    feature_similarity=fs,
                    flagged_by=tuple(by),
                )
            )
        return MemorizationResult(
            threshold=self.threshold,
            feature_threshold=self.feature_threshold,
            real_nearest=_quantiles(self.real_pixel),
            real_nearest_feature=_quantiles(self.real_feature),
            nearest=tuple(matches),
        )


def flag_memorized(
    synthetic: torch.Tensor,
    train: torch.Tensor,
    *,
    settings: MemorizationSettings | None = None,
    train_groups: Sequence[str] | None = None,
    synthetic_features: torch.Tensor | None = None,
    train_features: torch.Tensor | None = None,
) -> list[int]:
    """Indices of the synthetic images that are near-copies of a training image (to be
    replaced by fresh samples). Pixel space always; feature space too when features of
    both sets are given."""
    screen = MemorizationScreen(
        train, settings=settings, train_features=train_features, groups=train_groups
    )
    return screen.screen(synthetic, synthetic_features).flagged_indices


__all__ = ["MemorizationResult", "MemorizationScreen", "NearestMatch", "flag_memorized"]
