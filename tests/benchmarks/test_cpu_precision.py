"""Smoke test of ``benchmarks/cpu_precision.py --quick``: every section runs and reports."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "cpu_precision.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cpu_precision", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_quick_run_reports_every_section(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    bench = _load()
    out = tmp_path / "out"
    result = bench.main(
        ["--quick", "--speed-variants", "simple-cnn", "--out", str(out), "--threads", "1"]
    )
    printed = json.loads(capsys.readouterr().out)
    assert printed["quick"] is True
    assert set(printed) >= {"machine", "speed", "gan", "classifier"}
    assert isinstance(result["machine"]["cpu_has_amx"], bool)

    speed = result["speed"]["ms_per_step"]["classifier simple-cnn"]
    for clock in ("wall", "cpu"):
        assert speed[clock]["fp32_ms"] > 0 and speed[clock]["bf16_ms"] > 0

    for section, metrics in (("gan", bench.GAN_METRICS), ("classifier", bench.CLASSIFIER_METRICS)):
        part = result[section]
        assert set(part["runs"]) == {"fp32", "bf16"}
        for metric in metrics:
            row = part["comparison"][metric]
            assert row["fp32"]["n"] == row["bf16"]["n"] == 1
            assert row["within_seed_spread"] is None  # one seed: no spread to compare with
    assert (out / "gan" / "bf16-seed0.json").is_file()
    assert (out / "gan" / "fp32-seed0.png").is_file()

    # a rerun with the same settings reads the finished runs back
    again = bench.main(["--quick", "--section", "gan", "--out", str(out), "--threads", "1"])
    assert again["gan"]["runs"] == result["gan"]["runs"]
