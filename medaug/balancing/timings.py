"""How long a balance run took, summed over the sessions of a resumed run."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class UnitTimings:
    """Seconds spent on one training unit (a class, or all classes for a conditional one)."""

    train: float = 0.0
    sample: float = 0.0


@dataclass
class Timings:
    """Seconds spent loading data, per training unit, and on the whole run."""

    load: float = 0.0
    total: float = 0.0
    units: dict[str, UnitTimings] = field(default_factory=dict)

    def unit(self, name: str) -> UnitTimings:
        """The record of unit ``name`` (created on first use)."""
        return self.units.setdefault(name, UnitTimings())

    def to_dict(self) -> dict[str, Any]:
        """``{"load", "total", "classes": {unit: {"train", "sample"}}}`` (the ``--json`` form)."""
        return {
            "load": self.load,
            "total": self.total,
            "classes": {k: {"train": v.train, "sample": v.sample} for k, v in self.units.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Timings:
        """Read back :meth:`to_dict` output (missing keys are zero)."""
        data = data or {}
        units = {
            str(k): UnitTimings(float(v.get("train", 0.0)), float(v.get("sample", 0.0)))
            for k, v in dict(data.get("classes", {})).items()
        }
        return cls(float(data.get("load", 0.0)), float(data.get("total", 0.0)), units)


__all__ = ["Timings", "UnitTimings"]
