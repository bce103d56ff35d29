"""Curation: draw more synthetic images than needed and keep those a filter accepts.

A :class:`Curator` is built once per run from the real training images (all classes,
with their labels) and the audit's prepared feature extractor; the filters are the
audit's own criteria on those features:

- ``manifold``: a candidate is kept when its features fall inside the k-NN ball of some
  real image of its class (:func:`medaug.auditing.prdc.ball_ratios`: what the audit's
  precision counts);
- ``classifier``: the audit's linear discriminant (:func:`medaug.auditing.c2st.
  linear_discriminant`, equal class priors), trained on the real images' features of all
  classes, gives the intended class a probability >= the policy's threshold;
- with ``copies`` (``--reject-memorized``), the audit's memorization screen also
  rejects near-copies of the class's training images.

:meth:`Curator.curate` walks the generator's deterministic sample stream
(:func:`~medaug.generation.sampling.sample_chunk`) and keeps the accepted candidates in
stream order, until it has enough or has drawn ``draws_per_image`` candidates per image
wanted. Keeping them in stream order, rather than the "most typical" first, keeps the
kept set as varied as the accepted one (a ranking would crowd the dense modes and cost
the audit's recall and coverage). When too few are accepted, the class grows by fewer
images, and the result says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from medaug.auditing.c2st import linear_discriminant
from medaug.auditing.extractors import PreparedExtractor
from medaug.auditing.memorization import MemorizationScreen
from medaug.auditing.prdc import ball_radii, ball_ratios
from medaug.auditing.settings import MemorizationSettings
from medaug.contracts.generator import Generator
from medaug.curation.policy import CurationPolicy
from medaug.errors import MedaugError
from medaug.generation.sampling import CHUNK, sample_chunk


@dataclass(frozen=True)
class Curation:
    """What curating one class did."""

    filter: str
    #: images wanted
    asked: int
    #: candidates drawn from the stream
    drawn: int
    #: candidates the filter accepted
    accepted: int
    #: the stream images kept, in order (``len(stream) <= asked``)
    stream: tuple[int, ...]

    @property
    def kept(self) -> int:
        return len(self.stream)

    @property
    def acceptance_rate(self) -> float:
        return self.accepted / self.drawn if self.drawn else 0.0

    @property
    def short(self) -> bool:
        """Whether fewer images were kept than wanted."""
        return self.kept < self.asked

    def to_json(self, *, stream: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "filter": self.filter,
            "asked": self.asked,
            "drawn": self.drawn,
            "accepted": self.accepted,
            "kept": self.kept,
            "acceptance_rate": round(self.acceptance_rate, 4),
        }
        if stream:
            out["stream"] = list(self.stream)
        return out

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Curation:
        """A curation read back from a run record (``to_json(stream=True)``)."""
        return cls(
            filter=str(raw["filter"]),
            asked=int(raw["asked"]),
            drawn=int(raw["drawn"]),
            accepted=int(raw["accepted"]),
            stream=tuple(int(i) for i in raw["stream"]),
        )

    def sentence(self, name: str) -> str:
        """One line for the report and the terminal."""
        line = (
            f"{name}: the {self.filter} filter accepted {self.accepted} of {self.drawn} "
            f"candidates ({self.acceptance_rate:.0%}); kept {self.kept} of {self.asked}"
        )
        if self.short:
            line += (
                " (too few accepted: the generator's images fall off the real images' "
                "manifold; the class grows by fewer images)"
            )
        return line


class Curator:
    """The filters of one run, on features of its real training images.

    ``real`` are ``(N, C, H, W)`` images in ``[-1, 1]`` of every class, ``labels`` their
    class indices; ``groups`` their patient ids (for the copy screen's reference). With
    ``copies`` (the audit's memorization settings) near-copies are rejected too.
    """

    def __init__(
        self,
        policy: CurationPolicy,
        extractor: PreparedExtractor,
        real: torch.Tensor,
        labels: torch.Tensor,
        *,
        groups: Sequence[str] | None = None,
        copies: MemorizationSettings | None = None,
    ) -> None:
        self.policy, self.extractor = policy, extractor
        self.real, self.labels = real, torch.as_tensor(labels)
        self.groups = list(groups) if groups is not None else None
        #: the memorization screen's settings when near-copies are rejected (else ``None``)
        self.copies = copies
        self.features = extractor.features(real)
        self._radii: dict[int, torch.Tensor] = {}
        self._screens: dict[int, MemorizationScreen] = {}
        self._classifier: Any = None

    def _rows(self, class_index: int) -> torch.Tensor:
        rows = torch.nonzero(self.labels == class_index).flatten()
        if len(rows) <= self.policy.k:
            raise MedaugError(
                f"the {self.policy.filter} filter needs more than {self.policy.k} real images "
                f"of a class, got {len(rows)}"
            )
        return rows

    def _inside_manifold(self, class_index: int, features: torch.Tensor) -> torch.Tensor:
        rows = self._rows(class_index)
        real = self.features[rows]
        if class_index not in self._radii:
            self._radii[class_index] = ball_radii(torch.cdist(real, real), self.policy.k)
        return ball_ratios(real, self._radii[class_index], features) <= 1.0

    def _classified(self, class_index: int, features: torch.Tensor) -> torch.Tensor:
        if self._classifier is None:
            from threadpoolctl import threadpool_limits

            present = sorted(set(self.labels.tolist()))
            if len(present) < 2:
                raise MedaugError("the classifier filter needs real images of two classes")
            model = linear_discriminant(classes=len(present))
            with threadpool_limits(limits=1, user_api="blas"):
                model.fit(self.features.numpy(), self.labels.numpy())
            self._classifier = model
        model = self._classifier
        column = list(model.classes_).index(class_index)
        proba = model.predict_proba(features.numpy())[:, column]
        return torch.from_numpy(np.asarray(proba >= self.policy.threshold))

    def _not_copies(self, class_index: int, images: torch.Tensor, features: torch.Tensor) -> Any:
        if class_index not in self._screens:
            rows = self._rows(class_index)
            self._screens[class_index] = MemorizationScreen(
                self.real[rows],
                settings=self.copies,
                train_features=self.features[rows],
                groups=[self.groups[i] for i in rows.tolist()] if self.groups else None,
            )
        nearest = self._screens[class_index].screen(images, features).nearest
        return torch.tensor([not m.flagged for m in nearest], dtype=torch.bool)

    def accepts(self, class_index: int, images: torch.Tensor) -> torch.Tensor:
        """Which of ``images`` (``[-1, 1]``, intended class ``class_index``) are kept."""
        features = self.extractor.features(images)
        keep = torch.ones(len(images), dtype=torch.bool)
        if self.policy.filter == "manifold":
            keep &= self._inside_manifold(class_index, features)
        elif self.policy.filter == "classifier":
            keep &= self._classified(class_index, features)
        if self.copies is not None:
            keep &= self._not_copies(class_index, images, features)
        return keep

    def curate(
        self, generator: Generator, class_name: str, class_index: int, n: int, seed: int
    ) -> Curation:
        """The stream images of ``class_name`` (run seed ``seed``) to keep: the first
        ``n`` accepted among at most ``n * draws_per_image`` candidates."""
        budget = n * self.policy.draws_per_image
        kept: list[int] = []
        drawn = accepted = 0
        for chunk in range((budget + CHUNK - 1) // CHUNK):
            if len(kept) >= n:
                break
            images = sample_chunk(generator, class_name, class_index, seed, chunk)
            images = images[: budget - chunk * CHUNK]
            ok = self.accepts(class_index, images.float().cpu())
            drawn += len(images)
            accepted += int(ok.sum())
            first = chunk * CHUNK
            kept += [first + i for i in torch.nonzero(ok).flatten().tolist()]
        return Curation(self.policy.filter, n, drawn, accepted, tuple(kept[:n]))


__all__ = ["Curation", "Curator"]
