"""The DICOM reader: lists DICOM files, labels them, decodes one frame at a time."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from pydicom import Dataset, dcmread
from pydicom.datadict import tag_for_keyword
from pydicom.errors import InvalidDicomError
from pydicom.tag import Tag
from pydicom.uid import UID

from medaug.contracts.reader import ImageRecord, Reader, Scan, Skipped
from medaug.data.files import require_dir, walk_files
from medaug.data.imaging import pixel_cap_problem, resolve_max_pixels, to_chw
from medaug.data.names import NOT_UTF8, validate_class_name
from medaug.data.patients import compile_patient_regex, patient_from_name
from medaug.errors import MedaugError
from medaug_dicom.codecs import decoder_problem
from medaug_dicom.labels import ID_ATTRIBUTES, CsvLabels, LabelMatcher, read_labels
from medaug_dicom.pixels import DECODE_MODES, WINDOW_MODES, FrameRef, decode_frame
from medaug_dicom.reduced import DIRECT, PILLOW_JPEG_SYNTAXES, decode_direct, direct_meta

DICOM_SUFFIXES = frozenset({".dcm", ".dicom", ".dic"})
NON_IMAGE_MODALITIES = frozenset(
    {
        "SR",
        "RTSTRUCT",
        "RTPLAN",
        "RTRECORD",
        "RTDOSE",
        "PR",
        "KO",
        "REG",
        "SEG",
        "FID",
        "DOC",
        "AU",
        "ECG",
        "HD",
        "PLAN",
    }
)
MULTIFRAME_MODES = ("frames", "skip")
#: 3: JPEG frames decoded by Pillow (reduced DCT scale, LUTs on the small image);
#: 4: ``window="auto"`` on 8-bit data without a window means ``bits`` (cached rows made
#: under the min-max rule are decoded again); display-ready 8-bit JPEG frames are decoded
#: from the offset the scan recorded, without pydicom (``reduced.decode_direct``)
TOKEN_VERSION = 4
#: transfer-syntax names (as scans store them) that may take Pillow's JPEG path
_PILLOW_JPEG_NAMES = frozenset(UID(uid).name for uid in PILLOW_JPEG_SYNTAXES)


def looks_like_dicom(path: Path) -> bool:
    """A DICOM suffix, or no suffix and the ``DICM`` preamble."""
    suffix = path.suffix.lower()
    if suffix in DICOM_SUFFIXES:
        return True
    if suffix:
        return False
    try:
        with open(path, "rb") as fh:
            head = fh.read(132)
    except OSError:
        return False
    return head[128:132] == b"DICM"


def resolve_tag(name: str) -> Any:
    """A DICOM keyword (``StudyDescription``) or ``gggg,eeee`` as a tag; unknown is an error."""
    text = name.strip().strip("()").replace(" ", "")
    hexdigits = set("0123456789abcdefABCDEF")
    try:
        if "," in text:
            group, elem = text.split(",", 1)
            return Tag(int(group, 16), int(elem, 16))
        if len(text) == 8 and set(text) <= hexdigits:
            return Tag(int(text, 16))
    except (ValueError, OverflowError):
        pass
    tag = tag_for_keyword(text)
    if tag is None:
        raise MedaugError(
            f"unknown DICOM attribute {name!r} for --label-tag (e.g. StudyDescription or 0008,1030)"
        )
    return Tag(tag)


@dataclass(frozen=True)
class LabelOptions:
    """How each DICOM file gets its class and patient, an option group of
    :class:`DicomReader` (each field is a reader option).

    ``labels``: a CSV of labels (matched on ``id_column``, classes from ``label_column``;
    both found by name when not given); ``label_tag``: a DICOM attribute holding the
    class (a keyword or ``gggg,eeee``); neither: class folders. ``patient_regex``: how
    the patient ID is read from a file name when the file has no PatientID.
    """

    labels: Path | str | None = None
    label_tag: str | None = None
    patient_regex: str | None = None
    id_column: str | None = None
    label_column: str | None = None


@dataclass(frozen=True)
class PixelOptions:
    """How DICOM frames are decoded, an option group of :class:`DicomReader` (each field
    is a reader option).

    ``window``: the display mapping (``auto``, ``minmax`` or ``bits``); ``multiframe``:
    ``frames`` (one image per frame) or ``skip``; ``max_pixels``: pixels per frame
    (Rows x Columns) above which a file is skipped (default ``$MEDAUG_MAX_PIXELS``, else
    50 million); ``decode``: ``reduced`` decodes 8-bit grayscale JPEG frames with
    Pillow, at a reduced DCT scale where the display mapping allows it, ``full`` decodes
    every frame whole with pydicom.
    """

    window: str = "auto"
    multiframe: str = "frames"
    max_pixels: int | None = None
    decode: str = "reduced"


class DicomReader(Reader):
    """DICOM files (pydicom); labels from class folders, a CSV or a DICOM attribute."""

    suffixes: ClassVar[frozenset[str]] = DICOM_SUFFIXES

    def __init__(
        self,
        *,
        labelling: LabelOptions = LabelOptions(),
        pixels: PixelOptions = PixelOptions(),
    ) -> None:
        """Through the registry, the fields of ``labelling`` (:class:`LabelOptions`) and
        ``pixels`` (:class:`PixelOptions`) are the reader's options."""
        labels, label_tag = labelling.labels, labelling.label_tag
        patient_regex = labelling.patient_regex
        window, multiframe, decode = pixels.window, pixels.multiframe, pixels.decode
        if labels is not None and label_tag is not None:
            raise MedaugError("give either --labels or --label-tag, not both")
        if window not in WINDOW_MODES:
            raise MedaugError(
                f"invalid window {window!r}: expected one of {', '.join(WINDOW_MODES)}"
            )
        if multiframe not in MULTIFRAME_MODES:
            raise MedaugError(f"invalid multiframe {multiframe!r}: expected frames or skip")
        if decode not in DECODE_MODES:
            raise MedaugError(f"invalid decode {decode!r}: expected reduced or full")
        compile_patient_regex(patient_regex)
        self.labels_path = Path(labels).expanduser().resolve() if labels is not None else None
        self.csv: CsvLabels | None = (
            read_labels(
                self.labels_path,
                id_column=labelling.id_column,
                label_column=labelling.label_column,
            )
            if self.labels_path is not None
            else None
        )
        self.label_tag = label_tag
        self.tag = resolve_tag(label_tag) if label_tag is not None else None
        self.patient_regex = patient_regex
        self.window = window
        self.multiframe = multiframe
        self.max_pixels = resolve_max_pixels(pixels.max_pixels)
        self.decode_mode = decode

    @classmethod
    def can_read(cls, root: Path, **options: Any) -> float:
        """1.0 with a DICOM-only option (``labels``, ``label_tag``, ``window``...); 0.9
        when ``root`` itself holds DICOM files; else 0 (class folders go to ``folder``)."""
        dicom_only = (
            "labels",
            "label_tag",
            "id_column",
            "label_column",
            "window",
            "multiframe",
            "decode",
        )
        if any(options.get(k) is not None for k in dicom_only):
            return 1.0
        try:
            with os.scandir(root) as it:
                for n, entry in enumerate(it):
                    if n > 500:
                        break
                    if entry.is_file() and looks_like_dicom(Path(entry.path)):
                        return 0.9
        except OSError:
            return 0.0
        return 0.0

    def cache_token(self) -> str:
        return f"DicomReader:{TOKEN_VERSION}:{self.window}:{self.max_pixels}:{self.decode_mode}"

    def scan_token(self) -> str:
        csv_id: tuple[Any, ...] = ()
        if self.labels_path is not None:
            st = self.labels_path.stat()
            csv_id = (
                str(self.labels_path),
                st.st_size,
                st.st_mtime_ns,
                self.csv and self.csv.key_column,
            )
        options = (csv_id, self.label_tag, self.patient_regex, self.multiframe)
        return f"{self.cache_token()}:{options!r}"

    # -- one file -----------------------------------------------------------------------

    def _header(self, path: Path) -> Dataset | str:
        try:
            return dcmread(path, defer_size="4 KB")
        except InvalidDicomError as exc:
            return f"not a valid DICOM file ({exc})"
        except Exception as exc:
            return f"corrupt DICOM file ({type(exc).__name__}: {exc})"

    def _records(
        self, path: Path, ds: Dataset, label: str, patient_id: str
    ) -> list[ImageRecord] | Skipped:
        modality = str(ds.get("Modality", "") or "").upper()
        sop = ds.get("SOPClassUID")
        sop_name = getattr(sop, "name", str(sop or ""))
        if modality in NON_IMAGE_MODALITIES:
            return Skipped(
                path, f"non-image DICOM (Modality {modality}, {sop_name})".replace(", )", ")")
            )
        if not any(k in ds for k in ("PixelData", "FloatPixelData", "DoubleFloatPixelData")):
            what = f" ({sop_name})" if sop_name else ""
            return Skipped(path, f"no pixel data{what}")
        if "Rows" not in ds or "Columns" not in ds:
            return Skipped(path, "pixel data without Rows/Columns")
        too_large = pixel_cap_problem(int(ds.Columns or 0), int(ds.Rows or 0), self.max_pixels)
        if too_large:
            return Skipped(path, too_large)
        file_meta = getattr(ds, "file_meta", None)
        uid = str(getattr(file_meta, "TransferSyntaxUID", "") or "")
        problem = decoder_problem(uid) if uid else None
        if problem:
            return Skipped(path, problem)
        frames = int(ds.get("NumberOfFrames", 1) or 1)
        if frames > 1 and self.multiframe == "skip":
            return Skipped(path, f"multi-frame ({frames} frames) skipped (multiframe='skip')")
        pid = str(ds.get("PatientID", "") or "").strip() or patient_id
        meta = {
            "width": int(ds.Columns),
            "height": int(ds.Rows),
            "mode": str(ds.get("PhotometricInterpretation", "")),
            "bits": int(ds.get("BitsStored", 8) or 8),
            "frames": frames,
            "modality": modality,
            "transfer_syntax": UID(uid).name if uid else "",
            **direct_meta(ds, frames),
        }
        return [
            ImageRecord(path, label, pid, frame=f, format="dicom", meta=meta) for f in range(frames)
        ]

    def probe(self, path: Path, *, label: str, patient_id: str) -> list[ImageRecord] | Skipped:
        ds = self._header(path)
        if isinstance(ds, str):
            return Skipped(path, ds)
        try:
            return self._records(path, ds, label, patient_id)
        except Exception as exc:  # a malformed attribute: skip the file
            return Skipped(path, f"corrupt DICOM header ({type(exc).__name__}: {exc})")

    def _folder_labels(self) -> bool:
        """Whether classes are the first-level folders (no labels CSV, no label tag)."""
        return self.csv is None and self.tag is None

    def _label(
        self, root: Path, path: Path, ds: Dataset, matcher: LabelMatcher | None
    ) -> str | Skipped:
        rel = path.relative_to(root)
        if matcher is not None:
            ids = {a: str(ds.get(a, "") or "") for a in ID_ATTRIBUTES}
            label, reason = matcher.match(path, ids)
            return label if label is not None else Skipped(path, reason)
        if self.tag is not None:
            element = ds.get(self.tag)
            value = element.value if element is not None else None
            if value is None or str(value).strip() == "":
                return Skipped(path, f"no {self.label_tag} attribute to label it by")
            return validate_class_name(str(value).strip(), source=f"{self.label_tag} value")
        if len(rel.parts) < 2:
            return Skipped(path, "not inside a class folder (use --labels CSV or --label-tag TAG)")
        return validate_class_name(rel.parts[0], source="class folder")

    def _read_one(
        self, root: Path, path: Path, matcher: LabelMatcher | None
    ) -> list[ImageRecord] | Skipped:
        ds = self._header(path)
        if isinstance(ds, str):
            return Skipped(path, ds)
        try:
            label = self._label(root, path, ds, matcher)
            if isinstance(label, Skipped):
                return label
            return self._records(path, ds, label, patient_from_name(path, self.patient_regex))
        except MedaugError:
            raise
        except Exception as exc:  # a malformed attribute (Rows "abc"...): skip the file
            return Skipped(path, f"corrupt DICOM header ({type(exc).__name__}: {exc})")

    # -- the dataset ----------------------------------------------------------------------

    def scan(self, root: Path) -> Scan:
        root = require_dir(root)
        records: list[ImageRecord] = []
        skipped: list[Skipped] = []
        candidates: list[Path] = []
        for path, reason in walk_files(root):
            top = reason == NOT_UTF8 and path.parent == root
            if top and self._folder_labels() and path.is_dir():  # a class: refused
                validate_class_name(path.name, source="class folder")
            if reason:
                skipped.append(Skipped(path, reason))
            elif self.labels_path is not None and path.resolve() == self.labels_path:
                continue
            elif not looks_like_dicom(path):
                suffix = path.suffix.lower()
                skipped.append(Skipped(path, f"not a DICOM file ({suffix or 'no extension'})"))
            else:
                candidates.append(path)
        matcher = self.csv.matcher(root, candidates) if self.csv is not None else None
        for path in candidates:
            result = self._read_one(root, path, matcher)
            if isinstance(result, Skipped):
                skipped.append(result)
            else:
                records.extend(result)
        problem = matcher.report() if matcher is not None else None
        if matcher is not None and problem:
            skipped.append(Skipped(matcher.labels.path, problem))
        unlabelled = [s for s in skipped if s.reason.startswith("not inside a class folder")]
        if not records and unlabelled:
            raise MedaugError(
                f"{len(unlabelled)} DICOM file(s) directly in {str(root)!r} have no label: "
                "pass --labels CSV or --label-tag TAG, or put them in class folders"
            )
        return Scan(root=root, records=records, skipped=skipped)

    def decode(self, record: ImageRecord, *, image_size: int, channels: int | None) -> np.ndarray:
        meta = record.meta or {}
        too_large = pixel_cap_problem(
            int(meta.get("width", 0)), int(meta.get("height", 0)), self.max_pixels
        )
        if too_large:
            raise MedaugError(too_large)
        if self.decode_mode == "reduced" and self.window in ("auto", "bits") and DIRECT in meta:
            small = decode_direct(record.path, meta, image_size)
            if small is not None:
                return to_chw(small, channels)
        frames = int(meta.get("frames", 1))
        syntax = meta.get("transfer_syntax")
        pillow_may = syntax is None or syntax in _PILLOW_JPEG_NAMES
        return decode_frame(
            FrameRef(record.path, index=record.frame, count=frames),
            image_size=image_size,
            channels=channels,
            window=self.window,
            decode=self.decode_mode if pillow_may else "full",
        )
