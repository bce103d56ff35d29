"""JPEG DICOM frames decoded by Pillow (reduced where the mapping allows it) give the same
pixels as the full pydicom decode, within the bounds docs/scaling.md documents."""

from __future__ import annotations

import io
import shutil
from dataclasses import replace
from pathlib import Path

import medaug_dicom.pixels as pixels
import medaug_dicom.reader as reader_module
import medaug_dicom.reduced as reduced
import numpy as np
import pytest
from click.testing import CliRunner
from medaug_dicom.pixels import FrameRef, decode_frame, decode_frame_full
from medaug_dicom.reader import DicomReader, PixelOptions
from medaug_dicom.reduced import decode_stream, draft_request, route
from PIL import Image
from pydicom import Dataset, dcmread
from pydicom.data import get_testdata_file
from pydicom.encaps import encapsulate, get_frame
from pydicom.uid import JPEGBaseline8Bit

from medaug.cli import build_cli
from medaug.data import DataOptions, load_dataset
from medaug.errors import MedaugError
from tests.helpers import DicomSpec, write_dicom

#: documented bounds at 64 px, in 8-bit levels (docs/scaling.md, "DICOM decoding at scale")
JPEG_FULL_BOUND = (0.1, 2)  # min-max scaling: full Pillow decode, resize, then the mapping
DRAFT_BOUND = (1.0, 12)  # a linear mapping on the DCT-reduced frame
DRAFT_CLIP_BOUND = (1.5, 48)  # a window that clips (or a sigmoid) on the DCT-reduced frame


def _jpeg_dicom(
    path: Path,
    pixels8: np.ndarray,
    spec: DicomSpec | None = None,
    *,
    quality: int = 95,
    patient_id: str = "P1",
) -> Path:
    """An 8-bit JPEG Baseline DICOM file of ``pixels8`` (encoded by Pillow)."""
    write_dicom(path, pixels8, spec, patient_id=patient_id)
    ds = dcmread(path)
    buffer = io.BytesIO()
    Image.fromarray(pixels8).save(buffer, "JPEG", quality=quality)
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    ds.PixelData = encapsulate([buffer.getvalue()])
    ds["PixelData"].VR = "OB"
    ds.save_as(path, enforce_file_format=True)
    return path


def _smooth(size: int = 64, seed: int = 0) -> np.ndarray:
    """A chest-like smooth 8-bit image (dark lungs, bright middle) with no fill-gray corner."""
    y, x = np.mgrid[0:size, 0:size] / (size - 1)
    rng = np.random.default_rng(seed)
    img = 40 + 150 * np.exp(-(((x - 0.5) / 0.18) ** 2)) + 40 * y + rng.normal(0, 1, (size, size))
    return np.clip(img, 5, 250).astype(np.uint8)


def _diff(path: Path, size: int, window: str = "auto") -> tuple[float, int]:
    new = decode_frame(FrameRef(path), image_size=size, channels=None, window=window)
    ref = decode_frame_full(FrameRef(path), image_size=size, channels=None, window=window)
    assert new.shape == ref.shape == (1, size, size) and new.dtype == ref.dtype
    d = np.abs(new.astype(np.int64) - ref.astype(np.int64))
    scale = 255 / 65535 if new.dtype == np.uint16 else 1.0
    return float(d.mean() * scale), int(np.ceil(d.max() * scale))


def _route(path: Path, window: str = "auto") -> str:
    return route(dcmread(path, stop_before_pixels=True), frames=1, window=window).how


def _within(diff: tuple[float, int], bound: tuple[float, int]) -> bool:
    return diff[0] < bound[0] and diff[1] <= bound[1]


def test_rsna_files_match_the_full_decode(rsna_dicom_sample: Path, tmp_path: Path) -> None:
    files = sorted((rsna_dicom_sample / "images").glob("*.dcm"))[:3]
    for src in files:
        # 8-bit, no window in the file: auto means bits, the reduced route
        assert _route(src) == _route(src, "bits") == "draft"
        assert _within(_diff(src, 64), DRAFT_BOUND)
        assert _within(_diff(src, 64, "bits"), DRAFT_BOUND)
        assert _route(src, "minmax") == "jpeg-full"  # min-max needs the full extremes
        assert _within(_diff(src, 64, "minmax"), JPEG_FULL_BOUND)
        windowed = tmp_path / src.name
        ds = dcmread(src)
        ds.WindowCenter, ds.WindowWidth = 128, 128  # clips a third of the range
        ds.save_as(windowed)
        assert _route(windowed) == "draft"
        assert _within(_diff(windowed, 64), DRAFT_CLIP_BOUND)


def test_rg1_jpeg2000_and_uncompressed_keep_the_full_decode(tmp_path: Path) -> None:
    for name in ("RG1_UNCR.dcm", "RG1_J2KI.dcm"):
        src = get_testdata_file(name)
        assert src is not None, "pydicom-data is a test dependency"
        assert _route(Path(src)) == "pydicom"
        assert _diff(Path(src), 64) == (0.0, 0)


def test_min_max_uses_the_full_frames_extremes(tmp_path: Path) -> None:
    """One bright marker pixel sets today's min-max range; a 1/8 DCT-scaled decode would
    average it away and brighten everything else."""
    img = _smooth(128)
    img[70:72, 90:92] = 255
    path = _jpeg_dicom(tmp_path / "a.dcm", img)
    assert _route(path, "minmax") == "jpeg-full"
    assert _within(_diff(path, 16, "minmax"), JPEG_FULL_BOUND)


def test_window_rescale_and_monochrome1_on_the_reduced_frame(tmp_path: Path) -> None:
    # gain 1 (slope 1, width 256): a missed intercept would shift every pixel by 20
    extra = {"RescaleSlope": 1, "RescaleIntercept": -20, "WindowCenter": 108, "WindowWidth": 256}
    m2 = _jpeg_dicom(tmp_path / "m2.dcm", _smooth(), DicomSpec(extra=extra))
    m1 = _jpeg_dicom(
        tmp_path / "m1.dcm", _smooth(), DicomSpec(photometric="MONOCHROME1", extra=extra)
    )
    assert _route(m1) == _route(m2) == "draft"
    assert draft_request(64, 64, 16) == (16, 16)  # 1/4 DCT scale, the smallest >= 16 px
    for path in (m1, m2):
        assert _within(_diff(path, 16), DRAFT_BOUND)
    a = decode_frame(FrameRef(m1), image_size=16, channels=None).astype(int)
    b = decode_frame(FrameRef(m2), image_size=16, channels=None).astype(int)
    assert np.abs(a - (255 - b)).max() <= 1  # MONOCHROME1 inverted on the small image
    assert b[0, 8, 8] > b[0, 8, 1] + 50  # bright middle, dark lungs


def test_routes_that_stay_with_pydicom(tmp_path: Path) -> None:
    ds = Dataset()
    ds.file_meta = Dataset()
    ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.51"
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.PixelRepresentation = 16, 12, 0
    assert route(ds, frames=1, window="auto").reason == "not 8-bit unsigned"
    ds.BitsAllocated, ds.BitsStored = 8, 8
    assert route(ds, frames=1, window="auto").how == "draft"  # 8-bit, no window: bits
    assert route(ds, frames=1, window="minmax").how == "jpeg-full"
    assert route(ds, frames=3, window="auto").reason == "multi-frame"
    ds.ModalityLUTSequence = [Dataset()]
    assert route(ds, frames=1, window="minmax").how == "pydicom"
    assert route(ds, frames=1, window="bits").how == "draft"
    ds.PhotometricInterpretation, ds.SamplesPerPixel = "YBR_FULL_422", 3
    assert route(ds, frames=1, window="bits").how == "pydicom"
    ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.90"
    assert route(ds, frames=1, window="bits").how == "pydicom"


def test_pillow_declines_and_pydicom_decides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Path] = []
    original = pixels.decode_frame_full

    def counting(frame: FrameRef, **kw: object) -> np.ndarray:
        calls.append(frame.path)
        return original(frame, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(pixels, "decode_frame_full", counting)
    fine = _jpeg_dicom(tmp_path / "fine.dcm", _smooth())
    pixels.decode_frame(FrameRef(fine), image_size=16, channels=None)
    assert calls == []
    grey = _smooth()
    grey[-8:, -8:] = 128  # the last pixel is libjpeg's fill gray: maybe a cut stream
    corner = _jpeg_dicom(tmp_path / "corner.dcm", grey)
    out = pixels.decode_frame(FrameRef(corner), image_size=16, channels=None)
    assert calls == [corner] and out.shape == (1, 16, 16)
    broken = tmp_path / "broken.dcm"
    ds = dcmread(fine)
    ds.PixelData = encapsulate([b"\xff\xd8\xff\xdb" + b"\x00" * 40])
    ds.save_as(broken)
    with pytest.raises(MedaugError, match="cannot decode pixel data"):
        pixels.decode_frame(FrameRef(broken), image_size=16, channels=None)
    assert calls[-1] == broken  # pydicom's handler gave the reason, as before


def test_decode_full_option_and_cache_token(tmp_path: Path) -> None:
    for cls in ("a", "b"):
        _jpeg_dicom(tmp_path / "data" / cls / "x.dcm", _smooth(seed=ord(cls)), patient_id=cls)
    fast = load_dataset(
        tmp_path / "data", image_size=16, progress=False, options=DataOptions(workers=1)
    )
    full = load_dataset(
        tmp_path / "data",
        image_size=16,
        progress=False,
        options=DataOptions(workers=1, reader_options={"decode": "full"}),
    )
    assert full.reader == "dicom"  # a DICOM-only option picks the dicom reader
    ref = [decode_frame_full(FrameRef(r.path), image_size=16, channels=None) for r in full.records]
    assert np.array_equal(np.asarray(full.images), np.stack(ref))
    d = np.abs(np.asarray(fast.images).astype(int) - np.asarray(full.images).astype(int))
    assert d.mean() < DRAFT_BOUND[0] and d.max() <= DRAFT_BOUND[1]  # auto = bits: draft
    assert (
        DicomReader().cache_token() != DicomReader(pixels=PixelOptions(decode="full")).cache_token()
    )
    with pytest.raises(MedaugError, match="invalid decode 'fast': expected reduced or full"):
        DicomReader(pixels=PixelOptions(decode="fast"))


def test_rsna_copy_loads_through_pillow(rsna_dicom_sample: Path, tmp_path: Path) -> None:
    images = tmp_path / "images"
    images.mkdir()
    for src in sorted((rsna_dicom_sample / "images").glob("*.dcm"))[:2]:
        shutil.copy(src, images / src.name)
    labels = tmp_path / "labels.csv"
    labels.write_text("patientId,class\n" + "".join(f"{p.stem},x\n" for p in images.iterdir()))
    ds = load_dataset(
        images, image_size=32, progress=False, options=DataOptions(labels=labels, workers=1)
    )
    ref = np.stack(
        [decode_frame_full(FrameRef(r.path), image_size=32, channels=None) for r in ds.records]
    )
    d = np.abs(np.asarray(ds.images).astype(int) - ref.astype(int))
    assert d.mean() < DRAFT_BOUND[0] and d.max() <= DRAFT_BOUND[1]  # auto = bits: draft


def test_window_from_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``--window`` (one of every data command's dataset options) reaches the DICOM
    reader: ``bits`` sends a windowless 8-bit JPEG frame down the reduced ``draft`` route."""
    for cls in ("a", "b"):
        _jpeg_dicom(tmp_path / "data" / cls / "x.dcm", _smooth(seed=ord(cls)), patient_id=cls)
    routes: list[str] = []
    decode = pixels.decode_frame_pillow

    def spy(ds: Dataset, *, how: str, **kw: object) -> object:
        routes.append(how)
        return decode(ds, how=how, **kw)  # type: ignore[arg-type]

    direct = reader_module.decode_direct

    def spy_direct(path: Path, meta: dict[str, object], image_size: int) -> object:
        routes.append("direct")
        return direct(path, meta, image_size)

    monkeypatch.setattr(pixels, "decode_frame_pillow", spy)
    monkeypatch.setattr(reader_module, "decode_direct", spy_direct)
    base = ["inspect", str(tmp_path / "data"), "--workers", "1", "--json"]
    # windowless 8-bit files: auto = bits, read from the scanned offset (the direct route)
    for window, route_taken in ((None, "direct"), ("bits", "direct"), ("minmax", "jpeg-full")):
        routes.clear()
        extra = ["--window", window] if window else []
        cache = ["--cache-dir", str(tmp_path / f"cache-{window}")]
        result = CliRunner().invoke(build_cli(), [*base, *cache, *extra])
        assert result.exit_code == 0, result.output
        assert routes == [route_taken] * 2, (window, routes)
    result = CliRunner().invoke(build_cli(), [*base, "--window", "soft"])
    assert result.exit_code != 0
    assert "invalid window 'soft': expected one of auto, minmax, bits" in result.output
    assert "Traceback" not in result.output


def test_display_ready_frames_are_read_from_the_offset_the_scan_recorded(tmp_path: Path) -> None:
    """8-bit frames without rescale, LUT or window (``auto`` = ``bits``) skip pydicom at
    decode time: the scan records where the JPEG stream is; the pixels are the ``draft``
    route's to within one grey level, MONOCHROME1 inverted; anything else, or a file that
    no longer matches its scan, takes the ``draft`` route as before."""
    m2 = _jpeg_dicom(tmp_path / "data" / "a" / "m2.dcm", _smooth(seed=1), patient_id="a")
    _jpeg_dicom(
        tmp_path / "data" / "b" / "m1.dcm", _smooth(seed=2), DicomSpec(photometric="MONOCHROME1")
    )
    _jpeg_dicom(
        tmp_path / "data" / "b" / "r.dcm",
        _smooth(seed=3),
        DicomSpec(extra={"RescaleIntercept": -20}),
    )
    reader = DicomReader()
    scan = reader.scan(tmp_path / "data")
    meta = {r.path.name: r.meta for r in scan.records}
    assert meta["m2.dcm"]["direct"] == "MONOCHROME2" and meta["m1.dcm"]["direct"] == "MONOCHROME1"
    assert "direct" not in meta["r.dcm"] and "pixel_offset" not in meta["r.dcm"]
    calls: list[str] = []
    original = pixels.decode_frame

    def spy(frame: FrameRef, **kw: object) -> np.ndarray:
        calls.append(frame.path.name)
        return original(frame, **kw)  # type: ignore[arg-type]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("medaug_dicom.reader.decode_frame", spy)
        for record in scan.records:
            fast = reader.decode(record, image_size=16, channels=None).astype(int)
            ref = decode_frame(FrameRef(record.path), image_size=16, channels=None)
            assert np.abs(fast - ref.astype(int)).max() <= 1, record.path.name
        assert calls == ["r.dcm"]  # only the rescaled file went through pydicom
        stale = dict(meta["m2.dcm"], pixel_offset=3)  # a file changed since its scan
        record = next(r for r in scan.records if r.path == m2)
        out = reader.decode(replace(record, meta=stale), image_size=16, channels=None)
        assert calls == ["r.dcm", "m2.dcm"] and out.shape == (1, 16, 16)
    minmax = DicomReader(pixels=PixelOptions(window="minmax")).decode(
        record, image_size=16, channels=None
    )
    ref = decode_frame(FrameRef(m2), image_size=16, channels=None, window="minmax")
    assert np.array_equal(minmax, ref)  # --window minmax: not the direct route


@pytest.mark.parametrize(("side", "image_size"), [(1024, 64), (256, 64), (200, 64), (64, 64)])
def test_opencv_reduced_decode_gives_pillows_draft_values(side: int, image_size: int) -> None:
    """The direct route decodes with OpenCV at the DCT scale Pillow's ``draft`` takes
    (8, 4, 2 or 1 here) and gets the same array; it declines what Pillow would judge
    differently (colour, another size, a cut or damaged stream), and Pillow decides."""
    buffer = io.BytesIO()
    pixels8 = np.asarray(Image.fromarray(_smooth(seed=side)).resize((side, side + 8)))
    Image.fromarray(pixels8).save(buffer, "JPEG", quality=90)
    stream, size = buffer.getvalue(), (side, side + 8)
    via_pillow = decode_stream(stream, size, "draft", image_size)
    assert via_pillow is not None
    via_opencv = reduced._decode_reduced_opencv(stream, size, image_size)
    assert via_opencv is not None and np.array_equal(via_opencv, via_pillow.stored)
    colour = io.BytesIO()
    Image.fromarray(np.stack([pixels8] * 3, axis=-1)).save(colour, "JPEG")
    for declined, frame_size in [
        (colour.getvalue(), size),
        (stream, (side + 8, side)),
        (stream[: len(stream) // 2], size),
        (b"not a jpeg", size),
    ]:
        assert reduced._decode_reduced_opencv(declined, frame_size, image_size) is None


def test_rsna_streams_decode_to_the_same_values_by_opencv_and_pillow(
    rsna_dicom_sample: Path,
) -> None:
    for src in sorted((rsna_dicom_sample / "images").glob("*.dcm"))[:4]:
        ds = dcmread(src)
        stream = get_frame(ds.PixelData, 0, number_of_frames=1)
        size = (int(ds.Columns), int(ds.Rows))
        via_pillow = decode_stream(stream, size, "draft", 64)
        via_opencv = reduced._decode_reduced_opencv(stream, size, 64)
        assert via_pillow is not None and via_opencv is not None
        assert np.array_equal(via_opencv, via_pillow.stored), src.name
