"""``OUT/.medaug-run.json``: what a balance run was asked to do and how far it got.

It lets ``--resume`` continue an interrupted run, lets a repeated command recognise its
own finished run, and makes medaug refuse to resume with different settings.
"""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medaug._version import __version__
from medaug.atomic import atomic_write_text, read_json_record
from medaug.errors import MedaugError
from medaug.output.layout import STATE_NAME

STATE_KIND = "medaug-balance-run"
STATE_VERSION = 1


def now_iso() -> str:
    """Current UTC time, ISO 8601, seconds."""
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


@dataclass
class RunState:
    """The persistent state of one balance run."""

    settings: dict[str, Any]
    status: str = "running"  # running | complete
    started: str = field(default_factory=now_iso)
    finished: str = ""
    medaug_version: str = __version__
    #: the folder holding only the class folders (see OutputLayout)
    dataset_root: str = ""
    #: digest of the input tree when the run started (a changed input is refused)
    data_fingerprint: str = ""
    #: per class: trained, sampled, timings, DICOM UIDs...
    classes: dict[str, dict[str, Any]] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(
            {
                "kind": STATE_KIND,
                "version": STATE_VERSION,
                "medaug_version": self.medaug_version,
                "status": self.status,
                "started": self.started,
                "finished": self.finished,
                "dataset_root": self.dataset_root,
                "data_fingerprint": self.data_fingerprint,
                "settings": self.settings,
                "classes": self.classes,
                "summary": self.summary,
            },
            indent=2,
            sort_keys=True,
            default=str,
        )

    def save(self, out: Path) -> None:
        """Write atomically to ``out/.medaug-run.json``."""
        atomic_write_text(out / STATE_NAME, self.to_json() + "\n")

    def class_state(self, name: str) -> dict[str, Any]:
        """The mutable record of class ``name``."""
        return self.classes.setdefault(name, {})


def load_state(out: Path) -> RunState | None:
    """The run state in ``out``, or ``None`` when there is none."""
    raw = read_json_record(out / STATE_NAME, kind=STATE_KIND, what="a medaug balance run state")
    if raw is None:
        return None
    if raw.get("version") != STATE_VERSION:
        raise MedaugError(
            f"{out} was written by an incompatible medaug ({raw.get('medaug_version')}); "
            "choose another --out"
        )
    return RunState(
        settings=dict(raw.get("settings", {})),
        status=str(raw.get("status", "running")),
        started=str(raw.get("started", "")),
        finished=str(raw.get("finished", "")),
        medaug_version=str(raw.get("medaug_version", "")),
        dataset_root=str(raw.get("dataset_root", "")),
        data_fingerprint=str(raw.get("data_fingerprint", "")),
        classes=dict(raw.get("classes", {})),
        summary=dict(raw.get("summary", {})),
    )


def settings_diff(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Human-readable differences between two settings dicts."""
    keys = sorted(set(old) | set(new))
    norm = lambda v: json.loads(json.dumps(v, default=str))  # noqa: E731
    return [
        f"{k}: {old.get(k)!r} -> {new.get(k)!r}"
        for k in keys
        if norm(old.get(k)) != norm(new.get(k))
    ]
