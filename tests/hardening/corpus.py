"""A corpus of bad inputs, generated on the fly (tiny files, no data set shipped).

Every :class:`Case` builds one small dataset and says what ``medaug inspect --json``
must make of it: files skipped with a reason (``skips``: relative path -> a fragment
of the reason), the classes kept (``counts``), or a one-line error (``error``).
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from medaug.testing import DicomSpec, write_dicom

MPEG2 = "1.2.840.10008.1.2.4.100"  # a transfer syntax no installed package decodes


def texture(size: int, seed: int = 0) -> np.ndarray:
    """A smooth ramp with noise: compresses like a real image, not like a flat field."""
    rng = np.random.default_rng(seed)
    ramp = np.add.outer(np.arange(size), np.arange(size)) * (200 / (2 * size))
    return np.clip(ramp + rng.normal(0, 25, (size, size)) + 20, 0, 255).astype(np.uint8)


def encode(image: Image.Image, fmt: str, **options: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def jpeg_bytes(size: int = 64, mode: str = "L", **options: Any) -> bytes:
    return encode(Image.fromarray(texture(size)).convert(mode), "JPEG", quality=90, **options)


def png_bytes(size: int = 20, mode: str = "L") -> bytes:
    return encode(Image.fromarray(texture(size)).convert(mode), "PNG")


def cut(data: bytes) -> bytes:
    """The first half of a file: a download cut short."""
    return data[: len(data) // 2]


def cut_and_patched(data: bytes) -> bytes:
    """The first half of a JPEG with an end-of-image marker added ("repaired")."""
    return cut(data) + b"\xff\xd9"


def _chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def png_header_only(width: int, height: int) -> bytes:
    """A well-formed PNG whose header claims ``width`` x ``height`` (its pixel data is
    one tiny row: only a decoder that trusts the header allocates the full frame)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 16)
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")
    )


def jpeg_header_claiming(width: int, height: int) -> bytes:
    """A small JPEG whose frame header (SOF0) is patched to claim ``width`` x ``height``."""
    data = bytearray(jpeg_bytes(16))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def save(path: Path, image: Image.Image, **options: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, **options)
    return path


def base(root: Path, classes: tuple[str, ...] = ("a", "b"), n: int = 2) -> Path:
    """Two class folders of ``n`` good 20 px PNGs each."""
    for ci, cls in enumerate(classes):
        for i in range(n):
            write(root / cls / f"good{i}.png", png_bytes(20 + ci))
    return root


def dicom_base(root: Path) -> Path:
    """Two class folders of two good 16 px DICOM files each."""
    for cls in ("a", "b"):
        for i in range(2):
            write_dicom(root / cls / f"good{i}.dcm", texture(16, i), patient_id=f"{cls}{i}")
    return root


def dicom_with_syntax(path: Path, uid: str) -> Path:
    """A DICOM file whose (encapsulated) pixel data uses transfer syntax ``uid``."""
    from pydicom import dcmread
    from pydicom.encaps import encapsulate
    from pydicom.uid import UID

    write_dicom(path, texture(16))
    ds = dcmread(path)
    ds.file_meta.TransferSyntaxUID = UID(uid)
    ds.PixelData = encapsulate([b"\x00\x01" * 64])
    ds["PixelData"].VR = "OB"
    ds.save_as(path, enforce_file_format=True)
    return path


@dataclass(frozen=True)
class Case:
    """One bad input and what ``inspect --json`` must say about it."""

    name: str
    build: Callable[[Path], object]
    #: relative path -> fragment of its skip reason
    skips: dict[str, str] = field(default_factory=dict)
    #: classes and counts kept (checked when given)
    counts: dict[str, int] | None = None
    #: fragment of the one-line error (the command must fail)
    error: str | None = None
    #: more ``inspect`` arguments; ``{root}`` is replaced by the dataset's parent folder
    args: tuple[str, ...] = ()


def _with(*steps: Callable[[Path], object]) -> Callable[[Path], None]:
    def build(root: Path) -> None:
        for step in steps:
            step(root)

    return build


def _symlink_loops(root: Path) -> None:
    base(root)
    os.symlink(".", root / "a" / "s1")
    os.symlink(".", root / "a" / "s2")
    os.symlink("..", root / "b" / "up")
    os.symlink(".", root / "loop")


def _labelled_dicoms(rows: str, layout: tuple[str, ...]) -> Callable[[Path], None]:
    """DICOM files at the relative paths ``layout`` (PatientID = stem) and a labels.csv
    next to the dataset holding ``rows``."""

    def build(root: Path) -> None:
        for i, rel in enumerate(layout):
            write_dicom(root / rel, texture(16, i), patient_id=Path(rel).stem)
        (root.parent / "labels.csv").write_text("file,class\n" + rows, "utf-8")

    return build


def latin1(name: bytes) -> str:
    """A file name as Python gives one that is not valid UTF-8 (a Latin-1 ``\\xe9`` from
    an old PACS export): with surrogate escapes."""
    return os.fsdecode(name)


def _fifo(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)


LABELS = ("--labels", "{root}/labels.csv")
LONG_NAME = "class " + "x" * 240  # 246 bytes: near the 255-byte limit of most file systems

CASES: list[Case] = [
    # -- broken image files ----------------------------------------------------------
    Case(
        "zero-byte",
        _with(base, lambda r: write(r / "a" / "zero.png", b"")),
        {"a/zero.png": "corrupt or not an image"},
        {"a": 2, "b": 2},
    ),
    Case(
        "truncated-png",
        _with(base, lambda r: write(r / "a" / "cut.png", cut(png_bytes(64)))),
        {"a/cut.png": "truncated PNG"},
    ),
    Case(
        "truncated-jpeg",
        _with(base, lambda r: write(r / "a" / "cut.jpg", cut(jpeg_bytes()))),
        {"a/cut.jpg": "truncated JPEG"},
    ),
    Case(
        "truncated-jpeg-patched-with-eoi",
        _with(base, lambda r: write(r / "a" / "patched.jpg", cut_and_patched(jpeg_bytes()))),
        {"a/patched.jpg": "incomplete JPEG"},
        {"a": 2, "b": 2},
    ),
    Case(
        "text-with-image-extension",
        _with(base, lambda r: write(r / "a" / "notes.png", b"patient list, do not share")),
        {"a/notes.png": "corrupt or not an image"},
    ),
    Case(
        "jpeg-with-dicom-extension",
        _with(base, lambda r: write(r / "a" / "photo.dcm", jpeg_bytes())),
        {"a/photo.dcm": "not a valid DICOM file"},
    ),
    Case(
        "png-with-jpeg-extension-is-read",
        _with(base, lambda r: write(r / "a" / "really-png.jpg", png_bytes())),
        counts={"a": 3, "b": 2},
    ),
    Case(
        "not-an-image",
        _with(base, lambda r: write(r / "b" / "report.pdf", b"%PDF-1.4")),
        {"b/report.pdf": "not an image (.pdf file)"},
    ),
    # -- unusual but valid images: read, never a crash ------------------------------------
    Case(
        "sixteen-bit-png",
        _with(
            base,
            lambda r: save(
                r / "a" / "deep.png",
                Image.fromarray(texture(20).astype(np.uint16) * 257),
            ),
        ),
        counts={"a": 3, "b": 2},
    ),
    Case(
        "rgba-palette-cmyk",
        _with(
            base,
            lambda r: save(r / "a" / "rgba.png", Image.fromarray(texture(20)).convert("RGBA")),
            lambda r: save(r / "a" / "pal.png", Image.fromarray(texture(20)).convert("P")),
            lambda r: write(r / "a" / "cmyk.jpg", jpeg_bytes(20, "CMYK")),
        ),
        counts={"a": 5, "b": 2},
    ),
    Case(
        "one-by-one",
        _with(base, lambda r: save(r / "a" / "dot.png", Image.new("L", (1, 1), 200))),
        counts={"a": 3, "b": 2},
    ),
    # -- headers that claim huge images: skipped before any pixel is allocated -------------
    Case(
        "huge-png-header-under-pillow-limit",
        _with(base, lambda r: write(r / "a" / "huge.png", png_header_only(12000, 12000))),
        {"a/huge.png": "image too large to decode: 12000x12000"},
    ),
    Case(
        "png-header-over-pillow-limit",
        _with(base, lambda r: write(r / "a" / "bomb.png", png_header_only(100000, 100000))),
        {"a/bomb.png": "Pillow's safety limit"},
    ),
    Case(
        # decoded at 1/8 scale (1500 x 1500, not 144 million pixels), then found incomplete
        "huge-jpeg-header",
        _with(base, lambda r: write(r / "a" / "huge.jpg", jpeg_header_claiming(12000, 12000))),
        {"a/huge.jpg": "incomplete JPEG"},
        {"a": 2, "b": 2},
    ),
    # -- DICOM ---------------------------------------------------------------------------
    Case(
        "dicom-without-pixels",
        _with(
            dicom_base, lambda r: write_dicom(r / "a" / "nopix.dcm", None, DicomSpec(modality="CR"))
        ),
        {"a/nopix.dcm": "no pixel data"},
    ),
    Case(
        "dicom-structured-report",
        _with(
            dicom_base,
            lambda r: write_dicom(
                r / "a" / "sr.dcm",
                None,
                DicomSpec(modality="SR", sop_class="1.2.840.10008.5.1.4.1.1.88.11"),
            ),
        ),
        {"a/sr.dcm": "non-image DICOM (Modality SR"},
    ),
    Case(
        "dicom-multi-frame",
        _with(
            dicom_base,
            lambda r: write_dicom(r / "a" / "mf.dcm", np.stack([texture(16, 1), texture(16, 2)])),
        ),
        counts={"a": 4, "b": 2},
    ),
    Case(
        "dicom-monochrome1",
        _with(
            dicom_base,
            lambda r: write_dicom(
                r / "a" / "m1.dcm", texture(16), DicomSpec(photometric="MONOCHROME1")
            ),
        ),
        counts={"a": 3, "b": 2},
    ),
    Case(
        "dicom-transfer-syntax-without-decoder",
        _with(dicom_base, lambda r: dicom_with_syntax(r / "a" / "mpeg2.dcm", MPEG2)),
        {"a/mpeg2.dcm": "unsupported transfer syntax MPEG2"},
    ),
    Case(
        "dicom-zero-byte-and-cut",
        _with(
            dicom_base,
            lambda r: write(r / "a" / "empty.dcm", b""),
            lambda r: write(
                r / "a" / "cut.dcm", cut(write_dicom(r / "x.dcm", texture(64)).read_bytes())
            ),
            lambda r: (r / "x.dcm").unlink(),
        ),
        {"a/empty.dcm": "DICOM", "a/cut.dcm": "cannot decode"},
        {"a": 2, "b": 2},
    ),
    Case(
        "dicom-header-claiming-huge-frame",
        _with(
            dicom_base,
            lambda r: write_dicom(
                r / "a" / "huge.dcm",
                texture(16),
                DicomSpec(extra={"Rows": 60000, "Columns": 60000}),
            ),
        ),
        {"a/huge.dcm": "image too large to decode: 60000x60000"},
    ),
    # -- folder layout ---------------------------------------------------------------------
    Case(
        "odd-class-names",
        _with(
            lambda r: base(r, ("épanchement pleural", "正常", "Lung Opacity", "a..", LONG_NAME)),
            lambda r: write(r / "..." / "x.png", png_bytes()),
            lambda r: write(r / "..a" / "x.png", png_bytes()),
        ),
        {"...": "hidden folder", "..a": "hidden folder"},
        dict.fromkeys(("épanchement pleural", "正常", "Lung Opacity", "a..", LONG_NAME), 2),
    ),
    Case(
        "class-name-with-control-character",
        _with(base, lambda r: write(r / "bad\x07name" / "x.png", png_bytes())),
        error="contains control characters",
    ),
    Case(
        "class-name-escaping-with-backslashes",
        _with(base, lambda r: write(r / "x\\..\\..\\evil" / "x.png", png_bytes())),
        error="would escape the output folder",
    ),
    Case(
        "symlink-loops",
        _symlink_loops,
        {
            "a/s1": "symbolic link loop",
            "a/s2": "symbolic link loop",
            "b/up": "symbolic link loop",
            "loop": "symbolic link loop",
        },
        {"a": 2, "b": 2},
    ),
    Case(
        "empty-class",
        _with(base, lambda r: (r / "empty").mkdir()),
        {"empty": "empty class folder"},
        {"a": 2, "b": 2},
    ),
    Case("single-class", lambda r: base(r, ("only",)), error="only 1 class found"),
    Case(
        "nothing-readable",
        _with(lambda r: write(r / "a" / "x.png", b"junk"), lambda r: write(r / "b" / "y.png", b"")),
        error="no readable images",
    ),
    # -- names that are not UTF-8, files that are not regular files (issue 20) ---------------
    Case(
        "file-name-not-utf8",
        _with(base, lambda r: write(r / "a" / latin1(b"caf\xe9.png"), png_bytes())),
        {"a/caf\\xe9.png": "not valid UTF-8"},
        {"a": 2, "b": 2},
    ),
    Case(
        "sub-folder-name-not-utf8",
        _with(base, lambda r: write(r / "a" / latin1(b"s\xe9rie") / "x.png", png_bytes())),
        {"a/s\\xe9rie": "not valid UTF-8"},
        {"a": 2, "b": 2},
    ),
    Case(
        "class-folder-name-not-utf8",
        _with(base, lambda r: write(r / latin1(b"pneumonie-d\xe9but") / "x.png", png_bytes())),
        error="class folder 'pneumonie-d\\xe9but': name is not valid UTF-8",
    ),
    Case(
        "dicom-class-folder-name-not-utf8",
        _with(
            dicom_base,
            lambda r: write_dicom(r / latin1(b"\xe9panchement") / "x.dcm", texture(16)),
        ),
        error="class folder '\\xe9panchement': name is not valid UTF-8",
        args=("--reader", "dicom"),
    ),
    Case(
        "fifo-named-png",
        _with(base, lambda r: _fifo(r / "a" / "pipe.png"), lambda r: _fifo(r / "pipe.png")),
        {"a/pipe.png": "not a regular file: a named pipe", "pipe.png": "not a regular file"},
        {"a": 2, "b": 2},
    ),
    Case(
        "fifo-quick",
        _with(base, lambda r: _fifo(r / "a" / "pipe.png")),
        {"a/pipe.png": "not a regular file: a named pipe"},
        {"a": 2, "b": 2},
        args=("--quick",),
    ),
    Case(
        "fifo-named-dcm",
        _with(dicom_base, lambda r: _fifo(r / "a" / "pipe.dcm"), lambda r: _fifo(r / "b" / "p")),
        {"a/pipe.dcm": "not a regular file: a named pipe", "b/p": "not a regular file"},
        {"a": 2, "b": 2},
        args=("--reader", "dicom"),
    ),
    Case(
        "link-to-a-fifo",
        _with(
            base,
            lambda r: _fifo(r.parent / "outside.fifo"),
            lambda r: os.symlink(r.parent / "outside.fifo", r / "a" / "linked.png"),
        ),
        {"a/linked.png": "not a regular file: a named pipe"},
        {"a": 2, "b": 2},
    ),
    # -- labels CSV --------------------------------------------------------------------------
    Case(
        "labels-unknown-missing-and-empty-ids",
        _labelled_dicoms(
            "p1.dcm,x\np2.dcm,y\nghost.dcm,x\n,y\np3.dcm,\n", ("p1.dcm", "p2.dcm", "p3.dcm")
        ),
        {
            "p3.dcm": "no label in labels.csv",
            "{root}/labels.csv": "1 id(s) match no file of this dataset: 'ghost.dcm'",
        },
        {"x": 1, "y": 1},
        args=LABELS,
    ),
    Case(
        "labels-duplicate-ids-that-agree",
        _labelled_dicoms("p1.dcm,x\np1.dcm,x\np2.dcm,y\n", ("p1.dcm", "p2.dcm")),
        counts={"x": 1, "y": 1},
        args=LABELS,
    ),
    Case(
        "labels-duplicate-ids-that-disagree",
        _labelled_dicoms("p1.dcm,x\np1.dcm,y\np2.dcm,y\n", ("p1.dcm", "p2.dcm")),
        error="gives 'p1.dcm' two labels",
        args=LABELS,
    ),
    Case(
        "labels-bare-name-shared-by-two-sites",
        _labelled_dicoms(
            "a.dcm,x\nsite1/b.dcm,y\nsite2/b.dcm,x\n",
            ("site1/a.dcm", "site2/a.dcm", "site1/b.dcm", "site2/b.dcm"),
        ),
        {"site1/a.dcm": "ambiguous label", "site2/a.dcm": "ambiguous label"},
        {"x": 1, "y": 1},
        args=LABELS,
    ),
    Case(
        "labels-path-key-outside-the-dataset",
        _labelled_dicoms("../x/a.dcm,x\nb.dcm,y\nc.dcm,x\n", ("a.dcm", "b.dcm", "c.dcm")),
        {"a.dcm": "no label in labels.csv", "{root}/labels.csv": "'../x/a.dcm'"},
        {"x": 1, "y": 1},
        args=LABELS,
    ),
]
