""":class:`ImageSet`: images of one class with the names and patient ids an audit reports."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from medaug.errors import MedaugError


@dataclass(frozen=True)
class ImageSet:
    """``(N, C, H, W)`` float images in ``[-1, 1]``, optionally with an id per image (a
    path, shown in the JSON; default: the index) and a patient id per image (keeps a
    patient's images together in the real/real halves, the C2ST folds and the copy
    threshold; default: every image its own patient)."""

    images: torch.Tensor
    ids: tuple[str, ...] | None = None
    groups: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        n = len(self.images)
        for what, values in (("ids", self.ids), ("patient ids", self.groups)):
            if values is not None and len(values) != n:
                raise MedaugError(f"{len(values)} {what} given for {n} images")
        if self.ids is not None:
            object.__setattr__(self, "ids", tuple(str(i) for i in self.ids))
        if self.groups is not None:
            object.__setattr__(self, "groups", tuple(str(g) for g in self.groups))

    @classmethod
    def of(cls, value: ImageSet | torch.Tensor) -> ImageSet:
        """``value`` itself, or a tensor wrapped without ids or patients."""
        return value if isinstance(value, ImageSet) else cls(value)

    def __len__(self) -> int:
        return len(self.images)

    def names(self) -> tuple[str, ...]:
        """The ids, or the indices as strings."""
        return self.ids if self.ids is not None else tuple(str(i) for i in range(len(self)))

    def patients(self, rows: Sequence[int] | None = None) -> list[str] | None:
        """Patient ids of ``rows`` (all when ``None``), or ``None`` when unknown."""
        if self.groups is None:
            return None
        return list(self.groups) if rows is None else [self.groups[i] for i in rows]


__all__ = ["ImageSet"]
