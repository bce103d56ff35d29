"""The bad-input corpus: every hostile or broken input gives a clear skip reason in
``medaug inspect --json`` or a one-line error, never a traceback or a hang, and the input
tree (bytes, links, modification times) is left exactly as it was."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from medaug.testing import DicomSpec, write_dicom
from tests.hardening.corpus import (
    CASES,
    MPEG2,
    Case,
    base,
    cut,
    cut_and_patched,
    dicom_with_syntax,
    jpeg_bytes,
    png_bytes,
    png_header_only,
    write,
)
from tests.hardening.guard import inspect_in_process, run_medaug, tree_state


def _build(case: Case, tmp_path: Path) -> tuple[Path, list[str], dict[str, str]]:
    root = tmp_path / "data"
    root.mkdir()
    case.build(root)
    parent = str(tmp_path)
    args = [a.format(root=parent) for a in case.args]
    skips = {k.format(root=parent): v for k, v in case.skips.items()}
    return root, args, skips


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_is_reported_not_crashed(case: Case, tmp_path: Path) -> None:
    root, args, skips = _build(case, tmp_path)
    before = tree_state(tmp_path)
    outcome = inspect_in_process(root, *args)
    assert tree_state(tmp_path) == before, "the input tree was changed"
    if case.error is not None:
        outcome.assert_clean_error(case.error)
        return
    assert outcome.code == 0, outcome.stderr
    assert "Traceback" not in outcome.stderr
    skipped = outcome.skipped
    for path, fragment in skips.items():
        assert path in skipped, f"{path} not in skipped: {skipped}"
        assert fragment in skipped[path], skipped[path]
    assert all(reason.strip() for reason in skipped.values())
    if case.counts is not None:
        assert outcome.report["classes"] == case.counts


def test_many_bad_files_through_the_command_line(tmp_path: Path) -> None:
    """Bad images, bad DICOM files and link loops in one dataset, read by the real
    ``medaug`` process with a decode pool: one JSON report with every reason, no hang."""
    root = base(tmp_path / "data", n=30)  # enough records for the process pool
    a = root / "a"
    files = {
        "zero.png": b"",
        "cut.png": cut(png_bytes(64)),
        "cut.jpg": cut(jpeg_bytes()),
        "patched.jpg": cut_and_patched(jpeg_bytes()),
        "huge.png": png_header_only(12000, 12000),
        "bomb.png": png_header_only(100000, 100000),
        "photo.dcm": jpeg_bytes(),
    }
    for name, data in files.items():
        write(a / name, data)
    write_dicom(a / "nopix.dcm", None, DicomSpec(modality="CR"))
    dicom_with_syntax(a / "mpeg2.dcm", MPEG2)
    os.symlink(".", a / "s1")
    os.symlink(".", a / "s2")
    os.symlink(".", root / "loop")
    (root / "empty").mkdir()
    expected = {
        "a/zero.png": "corrupt or not an image",
        "a/cut.png": "truncated PNG",
        "a/cut.jpg": "truncated JPEG",
        "a/patched.jpg": "incomplete JPEG",
        "a/huge.png": "image too large to decode",
        "a/bomb.png": "Pillow's safety limit",
        "a/photo.dcm": "not a valid DICOM file",
        "a/nopix.dcm": "no pixel data",
        "a/mpeg2.dcm": "unsupported transfer syntax",
        "a/s1": "symbolic link loop",
        "a/s2": "symbolic link loop",
        "loop": "symbolic link loop",
        "empty": "empty class folder",
    }
    before = tree_state(root)
    outcome = run_medaug(["inspect", str(root), "--json", "--workers", "2"], timeout=240)
    assert tree_state(root) == before
    assert outcome.code == 0 and "Traceback" not in outcome.stderr, outcome.stderr
    assert outcome.report["classes"] == {"a": 30, "b": 30}
    skipped = outcome.skipped
    assert set(skipped) == set(expected)
    for path, fragment in expected.items():
        assert fragment in skipped[path], (path, skipped[path])
