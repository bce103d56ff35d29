"""``benchmarks/gpu_report.py --quick`` runs every section for real, tiny, on the CPU,
and prints one JSON object with every section's figures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "gpu_report.py"
SECTIONS = ("dcgan", "classifier", "ddpm", "generator_audit", "demo", "paper_experiment")


def test_quick_report_runs_every_section(tmp_path: Path) -> None:
    out = tmp_path / "report"
    cmd = [sys.executable, str(SCRIPT), "--quick", "--device", "cpu", "--out", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout)  # one JSON object and nothing else on stdout

    assert {"machine", "settings", "sections", "goals", "wall_s", "files"} <= set(report)
    assert {"gpu", "torch", "cuda", "cudnn"} <= set(report["machine"])
    sections = report["sections"]
    assert tuple(sections) == SECTIONS
    for name in SECTIONS:
        assert {"status", "wall_s", "guard_s"} <= set(sections[name]), name
    for name in SECTIONS[:-1]:
        assert sections[name]["status"] == "ok", (name, sections[name])
    # without --train/--test the paper experiment is skipped, with the reason
    assert sections["paper_experiment"]["status"] == "skipped"
    assert "--train" in sections["paper_experiment"]["reason"]

    dcgan = sections["dcgan"]["sizes"]
    assert set(dcgan) == {"64", "128"}
    for row in dcgan.values():
        assert row["img_per_s"]["plain"] > 0
        assert set(row["ratio_to_plain"]) == {
            "medaug paper fp32 contiguous",
            "medaug paper fp32 channels_last",
            "medaug paper bf16 channels_last",
        }
        assert all(v > 0 for v in row["ratio_to_plain"].values())
    models = sections["classifier"]["models"]
    assert set(models) == {"simple-cnn", "timm:resnet18"}
    for row in models.values():
        assert row["plain"]["img_per_s"] > 0 and row["medaug"]["img_per_s"] > 0
        assert row["ratio"] > 0
        assert row["medaug"]["busy_fraction"] is None  # no GPU to sample
    for row in sections["ddpm"]["sizes"].values():
        assert row["train_img_per_s"] > 0 and row["sample_img_per_s"] > 0
    audit = sections["generator_audit"]["generators"]
    for name in ("dcgan", "ddpm"):
        assert {"fid", "precision", "recall", "coverage", "c2st_auc"} <= set(audit[name]["audit"])
    assert sections["demo"]["rc"] == 0
    assert {g["goal"].split()[0] for g in report["goals"]} >= {"dcgan", "classifier", "demo"}

    assert json.loads((out / "report.json").read_text()) == report
    written = sorted(p.name for p in out.iterdir())
    assert len(written) <= 6 and "report.json" in written
    assert set(written) == set(report["files"])
