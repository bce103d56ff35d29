"""The folder reader: one class per first-level folder, images anywhere below it."""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from medaug.contracts.reader import ImageRecord, Reader, Scan, Skipped
from medaug.data.decode import parallel_map
from medaug.data.files import TreeWalk, ignore_reason, require_dir, walk_files
from medaug.data.imaging import resolve_max_pixels
from medaug.data.names import validate_class_name
from medaug.data.patients import compile_patient_regex, patient_from_name
from medaug.errors import MedaugError
from medaug.registry import factory_kwargs, option_problem
from medaug_folder.pil_decode import IMAGE_SUFFIXES, decode_image, probe_image

TOKEN_VERSION = 2


def _delegate_for(suffix: str, options: dict[str, Any]) -> Reader | None:
    """A registered reader (other than this one) that claims files with ``suffix``, built
    with those of ``options`` (``None`` dropped) that it accepts."""
    from medaug.plugins import registry

    given = {k: v for k, v in options.items() if v is not None}
    for entry in registry("reader").entries():
        factory = entry.factory
        if factory is FolderReader or suffix not in getattr(factory, "suffixes", ()):
            continue
        accepted = {k: v for k, v in given.items() if option_problem(factory, {k: v}) is None}
        try:
            reader = factory(**factory_kwargs(factory, accepted))
        except Exception:
            continue
        if isinstance(reader, Reader):
            return reader
    return None


class FolderReader(Reader):
    """Class folders of PNG/JPEG/BMP/TIFF images (and DICOM via the DICOM reader)."""

    suffixes: ClassVar[frozenset[str]] = frozenset(IMAGE_SUFFIXES)

    def __init__(self, *, patient_regex: str | None = None, max_pixels: int | None = None) -> None:
        """``max_pixels``: decoded pixels per frame above which an image is skipped
        (default ``$MEDAUG_MAX_PIXELS``, else 50 million)."""
        compile_patient_regex(patient_regex)  # fail early on a bad pattern
        self.patient_regex = patient_regex
        self.max_pixels = resolve_max_pixels(max_pixels)
        self._delegates: dict[str, Reader | None] = {}

    @classmethod
    def can_read(cls, root: Path, **options: Any) -> float:
        """0.5 when ``root`` has sub-folders; a low fallback for any other folder."""
        try:
            with os.scandir(root) as it:
                has_dirs = any(
                    e.is_dir() and not ignore_reason(e.name, is_dir=True, parent=root) for e in it
                )
        except OSError:
            return 0.0
        return 0.5 if has_dirs else 0.05

    def cache_token(self) -> str:
        """Changes with this reader's version and with the decode options of the readers
        it delegates to (a new DICOM pipeline invalidates cached ``.dcm`` rows)."""
        from medaug.plugins import registry

        parts = [f"FolderReader:{TOKEN_VERSION}:{self.max_pixels}"]
        for entry in registry("reader").entries():
            claimed = sorted(set(getattr(entry.factory, "suffixes", ())) - set(IMAGE_SUFFIXES))
            delegate = self._delegate(claimed[0]) if claimed else None
            if delegate is not None:
                parts.append(f"{','.join(claimed)}={delegate.cache_token()}")
        return "|".join(parts)

    def scan_token(self) -> str:
        return f"{self.cache_token()}:{self.patient_regex!r}"

    def _delegate(self, suffix: str) -> Reader | None:
        if suffix not in self._delegates:
            options = {"patient_regex": self.patient_regex, "max_pixels": self.max_pixels}
            self._delegates[suffix] = _delegate_for(suffix, options)
        return self._delegates[suffix]

    def probe(self, path: Path, *, label: str, patient_id: str) -> list[ImageRecord] | Skipped:
        return self._records(path, label, probe_image(path, self.max_pixels), patient_id)

    def _records(
        self, path: Path, label: str, info: dict[str, Any] | str, patient_id: str | None = None
    ) -> list[ImageRecord] | Skipped:
        if isinstance(info, str):
            return Skipped(path, info)
        pid = patient_id or patient_from_name(path, self.patient_regex)
        return [
            ImageRecord(path, label, pid, frame=f, format="image", meta=info)
            for f in range(int(info.get("frames", 1)))
        ]

    def _probe_any(self, path: Path, label: str) -> list[ImageRecord] | Skipped:
        suffix = path.suffix.lower()
        patient = patient_from_name(path, self.patient_regex)
        if suffix in IMAGE_SUFFIXES:
            return self.probe(path, label=label, patient_id=patient)
        delegate = self._delegate(suffix) if suffix else None
        if delegate is not None:
            try:
                return delegate.probe(path, label=label, patient_id=patient)
            except Exception as exc:
                return Skipped(path, f"cannot read ({type(exc).__name__}: {exc})")
        kind = f"{suffix} file" if suffix else "file without extension"
        return Skipped(path, f"not an image ({kind})")

    def scan(self, root: Path) -> Scan:
        root = require_dir(root)
        records: list[ImageRecord] = []
        skipped: list[Skipped] = []
        class_dirs: list[Path] = []
        walk = TreeWalk(root)  # one walk: no folder is read twice, link loops are skipped
        walk.enter(root)
        top = walk.entries(root)
        if isinstance(top, str):
            raise MedaugError(f"cannot read dataset folder {str(root)!r}: {top}")
        for entry in top:
            reason = entry.reason or ignore_reason(
                entry.path.name, is_dir=entry.is_dir, parent=root
            )
            if reason:
                skipped.append(Skipped(entry.path, reason))
            elif entry.is_dir:
                class_dirs.append(entry.path)
            else:
                skipped.append(Skipped(entry.path, "not inside a class folder"))
        if not class_dirs:
            raise MedaugError(
                f"no class folders in {str(root)!r}: expected ROOT/<class>/<image> "
                "(one folder per class), or DICOM files with --labels/--label-tag"
            )
        # list first, then read image headers in parallel (the slow part of a scan)
        listed: list[tuple[Path, str, str | None]] = []
        for folder in class_dirs:
            label = validate_class_name(folder.name, source="class folder")
            listed.extend((path, label, reason) for path, reason in walk_files(folder, walk=walk))
        headers = parallel_map(
            partial(probe_image, max_pixels=self.max_pixels),
            [p for p, _, reason in listed if not reason and p.suffix.lower() in IMAGE_SUFFIXES],
        )
        probed = iter(headers)
        found: dict[str, int] = dict.fromkeys((f.name for f in class_dirs), 0)
        for path, label, reason in listed:
            if reason:
                skipped.append(Skipped(path, reason))
                continue
            if path.suffix.lower() in IMAGE_SUFFIXES:
                result = self._records(path, label, next(probed))
            else:
                result = self._probe_any(path, label)
            if isinstance(result, Skipped):
                skipped.append(result)
            else:
                records.extend(result)
                found[label] += len(result)
        for folder in class_dirs:
            if not found[folder.name]:
                skipped.append(Skipped(folder, "empty class folder (no readable images)"))
        return Scan(root=root, records=records, skipped=skipped)

    def decode(self, record: ImageRecord, *, image_size: int, channels: int | None) -> np.ndarray:
        suffix = record.path.suffix.lower()
        if record.format == "image" or suffix in IMAGE_SUFFIXES:
            return decode_image(
                record.path,
                frame=record.frame,
                image_size=image_size,
                channels=channels,
                max_pixels=self.max_pixels,
            )
        delegate = self._delegate(suffix)
        if delegate is None:
            raise MedaugError(f"no installed reader decodes {suffix} files")
        return delegate.decode(record, image_size=image_size, channels=channels)
