"""Patient ids from file names, so that splits never put one patient on both sides, and
the pseudonyms that stand for patient ids everywhere after a scan.

The default pattern groups the ChestXray2017 names: ``person12_bacteria_3.jpeg`` ->
``person12``, ``IM-0115-0001.jpeg`` -> ``IM-0115``, ``NORMAL2-IM-0300-0001.jpeg`` ->
``NORMAL2-IM-0300``. A file matching no pattern is its own patient (its stem).

A reader's patient id (a DICOM PatientID, or a name from the file name) is replaced by
:func:`pseudonym` as soon as a scan is made, before it is cached: the splits only
compare ids for equality, so they are the same as with the ids themselves.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path

from medaug.errors import ConfigError

DEFAULT_PATIENT_REGEX = r"^(?P<patient>person\d+|(?:NORMAL2-)?IM-\d+)(?=[-_.])"


@lru_cache(maxsize=32)
def compile_patient_regex(pattern: str | None) -> re.Pattern[str]:
    """Compile ``pattern`` (default :data:`DEFAULT_PATIENT_REGEX`); a bad one is a
    :class:`MedaugError`."""
    try:
        return re.compile(pattern or DEFAULT_PATIENT_REGEX)
    except re.error as exc:
        raise ConfigError(
            f"invalid {{patient_regex}} {pattern!r}: {exc}", "patient_regex"
        ) from None


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


#: the prefix of every pseudonym (so a pseudonym is never taken for a real id)
PSEUDONYM_PREFIX = "pid-"


def pseudonym(patient_id: str) -> str:
    """A stable one-way stand-in for ``patient_id``: ``pid-`` and 20 hex digits of a
    BLAKE2b digest (80 bits: no collision in any real dataset). Equal ids give equal
    pseudonyms, in every dataset and on every machine. It is not encryption: an id that
    can be guessed (a short number) can be checked against it."""
    digest = hashlib.blake2b(
        str(patient_id).encode("utf-8", "surrogateescape"), digest_size=10, person=b"medaug-patient"
    ).hexdigest()
    return PSEUDONYM_PREFIX + digest
