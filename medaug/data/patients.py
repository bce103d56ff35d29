"""Patient ids from file names, so that splits never put one patient on both sides.

The default pattern groups the ChestXray2017 names: ``person12_bacteria_3.jpeg`` ->
``person12``, ``IM-0115-0001.jpeg`` -> ``IM-0115``, ``NORMAL2-IM-0300-0001.jpeg`` ->
``NORMAL2-IM-0300``. A file matching no pattern is its own patient (its stem).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from medaug.errors import MedaugError

DEFAULT_PATIENT_REGEX = r"^(?P<patient>person\d+|(?:NORMAL2-)?IM-\d+)(?=[-_.])"


@lru_cache(maxsize=32)
def compile_patient_regex(pattern: str | None) -> re.Pattern[str]:
    """Compile ``pattern`` (default :data:`DEFAULT_PATIENT_REGEX`); a bad one is a
    :class:`MedaugError`."""
    try:
        return re.compile(pattern or DEFAULT_PATIENT_REGEX)
    except re.error as exc:
        raise MedaugError(f"invalid --patient-regex {pattern!r}: {exc}") from None


def patient_from_name(path: Path | str, pattern: str | None = None) -> str:
    """The patient id of a file: the ``patient`` named group of ``pattern`` searched in
    the file name, else its first group, else the whole match; the stem when no match."""
    name = Path(path).name
    match = compile_patient_regex(pattern).search(name)
    if match is None:
        return Path(name).stem
    groups = match.groupdict()
    if groups.get("patient"):
        return groups["patient"]
    if match.groups() and match.group(1):
        return match.group(1)
    return match.group(0) or Path(name).stem
