"""What a balance run reports: :class:`BalanceSummary` (typed) and :class:`BalanceAudit`.

The summary is a typed record that also reads as the mapping printed by ``--json`` and
kept in the run record (``summary["counts_after"]`` and ``summary.counts_after`` agree),
so callers of the dict form keep working.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass(frozen=True)
class BalanceAudit:
    """The audit of a balance run: its figures for the summary, its report section."""

    #: per-class figures and the report path, or ``{"skipped": reason}``
    figures: dict[str, Any]
    #: the report's audit section (Markdown)
    markdown: str


@dataclass(frozen=True, eq=False)
class BalanceSummary(Mapping[str, Any]):
    """The outcome of one balance run (the ``--json`` output, key for key)."""

    status: str = "complete"
    data: str = ""
    bundled: bool = False
    out: str = ""
    dataset_root: str = ""
    generator: str = ""
    device: str = ""
    classes: list[str] = field(default_factory=list)
    counts_before: dict[str, int] = field(default_factory=dict)
    added: dict[str, int] = field(default_factory=dict)
    counts_after: dict[str, int] = field(default_factory=dict)
    #: how many input files were skipped, and (:func:`~medaug.balancing.inputs.
    #: skipped_inputs`) their count per reason and, unless OUT is de-identified, names
    skipped_inputs: int = 0
    skipped: dict[str, Any] = field(default_factory=dict)
    output_format: str = "png"
    manifest: str = ""
    manifest_rows: int = 0
    report: str = ""
    #: class -> its generator's checkpoint
    checkpoints: dict[str, str] = field(default_factory=dict)
    resumed: bool = False
    started: str = ""
    finished: str = ""
    #: :class:`~medaug.balancing.timings.Timings` as a dict
    seconds: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    #: :attr:`BalanceAudit.figures`, or ``None`` without an audit
    audit: dict[str, Any] | None = None
    #: training unit -> epochs its generator trained
    generator_epochs: dict[str, int] = field(default_factory=dict)
    #: the StudyInstanceUID of a de-identified DICOM output
    study_uid: str | None = None
    #: with ``--filter``: the policy and, per class, the candidates drawn, accepted, kept
    curation: dict[str, Any] | None = None
    #: per class whose count ``--max-synthetic-share`` lowered, what the strategy asked for
    capped: dict[str, int] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``study_uid``, ``curation`` and ``capped`` only when there is one)."""
        out = asdict(self)
        for key in ("study_uid", "curation", "capped"):
            if out[key] is None:
                del out[key]
        return out

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> BalanceSummary:
        """A summary read back from a run record (keys it lacks take their defaults)."""
        return cls(**{f.name: raw[f.name] for f in fields(cls) if f.name in raw})

    # the mapping view: the JSON form
    def __getitem__(self, key: str) -> Any:
        return self.to_dict()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.to_dict())

    def __len__(self) -> int:
        return len(self.to_dict())


def capped_lines(summary: BalanceSummary) -> list[str]:
    """One line per class that the share cap kept below what the strategy asked for."""
    return [
        f"{cls}: {summary.added.get(cls, 0)} generated images, not {asked}: "
        "--max-synthetic-share caps the generated share of a class ('none' fills it up)"
        for cls, asked in (summary.capped or {}).items()
    ]


__all__ = ["BalanceAudit", "BalanceSummary", "capped_lines"]
