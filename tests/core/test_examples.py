"""The library example in examples/ keeps working (it is what README points users to)."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "use_from_python.py"


@pytest.mark.slow
def test_use_from_python_example(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    module = runpy.run_path(str(EXAMPLE))
    module["main"](tmp_path)
    out = capsys.readouterr().out
    assert "plan: {'NORMAL': 190}" in out
    assert "balanced: {'NORMAL': 120, 'PNEUMONIA': 290}" in out
    assert (tmp_path / "samples.png").is_file()
    assert (tmp_path / "balanced" / "manifest.csv").is_file()
