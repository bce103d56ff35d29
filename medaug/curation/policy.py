"""How synthetic images are curated: :class:`CurationPolicy` (``--filter``,
``--draws-per-image``, ``--filter-threshold``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from medaug.errors import ConfigError

#: the filters, ``none`` first (the default: every sampled image is kept)
FILTERS: tuple[str, ...] = ("none", "manifold", "classifier")
#: candidates drawn per image kept, by default, when a filter is on
DEFAULT_DRAWS = 4
#: the classifier filter's default: the intended class more likely than not
DEFAULT_THRESHOLD = 0.5


@dataclass(frozen=True)
class CurationPolicy:
    """Which synthetic images are kept.

    - ``filter``: ``none`` (all), ``manifold`` (features inside the real images' k-NN
      manifold: the audit's precision criterion) or ``classifier`` (a classifier trained
      on the real images gives the intended class a probability >= ``threshold``);
    - ``draws_per_image``: at most this many candidates are drawn per image wanted;
      candidates are taken in the generator's stream order until enough are accepted;
    - ``threshold``: the ``classifier`` filter's probability;
    - ``k``: the ``manifold`` filter's neighbours (the audit's ``k``).

    With ``--reject-memorized`` the memorization screen also rejects candidates.
    """

    filter: str = "none"
    draws_per_image: int = DEFAULT_DRAWS
    threshold: float = DEFAULT_THRESHOLD
    k: int = 5

    def __post_init__(self) -> None:
        if self.filter not in FILTERS:
            raise ConfigError(
                f"unknown {{filter}} {self.filter!r}: choose from {', '.join(FILTERS)}", "filter"
            )
        if self.draws_per_image < 1:
            raise ConfigError(
                f"{{draws_per_image}} must be >= 1, got {self.draws_per_image}", "draws_per_image"
            )
        if not 0.0 < self.threshold < 1.0:
            raise ConfigError(
                f"{{filter_threshold}} must be in (0, 1), got {self.threshold}", "filter_threshold"
            )
        if self.k < 1:
            raise ConfigError(f"{{filter_k}} must be >= 1, got {self.k}", "filter_k")

    @property
    def active(self) -> bool:
        """Whether images are filtered at all."""
        return self.filter != "none"

    def to_json(self) -> dict[str, Any]:
        """The settings that matter for this filter (what the manifest and report record)."""
        out: dict[str, Any] = {"filter": self.filter}
        if self.active:
            out["draws_per_image"] = self.draws_per_image
        if self.filter == "manifold":
            out["k"] = self.k
        if self.filter == "classifier":
            out["threshold"] = self.threshold
        return out

    def label(self, *, reject_memorized: bool = False) -> str:
        """One line for the manifest: ``manifold draws_per_image=4 k=5``."""
        parts = [f"{k}={v}" for k, v in self.to_json().items() if k != "filter"]
        if reject_memorized:
            parts.append("reject_memorized")
        return " ".join([self.filter, *parts])


__all__ = ["DEFAULT_DRAWS", "DEFAULT_THRESHOLD", "FILTERS", "CurationPolicy"]
