"""``benchmarks/rare_class.py`` runs end to end on a tiny dataset: the minority cut to
each N (nested, patient-grouped order, majority untouched), every arm, the table, the
figure and the JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import write_image_folder

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "rare_class.py"
ARMS = ("baseline", "baseline-sampler", "classic", "gan", "gan-manifold", "gan-classifier")


def test_rare_class_benchmark_runs_every_arm_at_every_size(tmp_path: Path) -> None:
    train = write_image_folder(tmp_path / "train", {"NORMAL": 30, "PNEUMONIA": 60}, size=16)
    test = write_image_folder(tmp_path / "test", {"NORMAL": 8, "PNEUMONIA": 8}, size=16, seed=3)
    out = tmp_path / "bench"
    cmd = [
        sys.executable, str(SCRIPT), "--train", str(train), "--test", str(test),
        "--out", str(out), "--sizes", "14,all", "--seeds", "2", "--epochs", "1",
        "--image-size", "16", "--gen-steps", "10", "--gen-option", "ngf=8",
        "--gen-option", "ndf=8", "--threads", "1", "--device", "cpu",
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]

    small = sorted(p.name for p in (out / "data" / "N14" / "NORMAL").iterdir())
    every = sorted(p.name for p in (out / "data" / "Nall" / "NORMAL").iterdir())
    assert len(small) == 14 and set(small) <= set(every) and len(every) == 30
    assert len(list((out / "data" / "N14" / "PNEUMONIA").iterdir())) == 60

    data = json.loads((out / "rare_class.json").read_text())
    assert list(data["sizes"]) == ["14", "all"]
    for size in data["sizes"].values():
        assert set(size["arms"]) == set(ARMS)
        assert all(s["balanced_accuracy"]["n"] == 2 for s in size["arms"].values())
        assert set(size["vs_classic"]) == {"gan", "gan-manifold", "gan-classifier"}
        assert {r.split("/")[0] for r in size["curation"]} == {"gan-manifold", "gan-classifier"}
    table = (out / "rare_class.md").read_text()
    assert table.count("\n| 14 |") == len(ARMS)
    assert (out / "rare_class.png").stat().st_size > 0
    assert json.loads(proc.stdout.strip().splitlines()[-1])["all"].keys() == set(ARMS)

    # the gan arm with the sampler, uncapped and capped: the seeds' generators linked from
    # the first run's folder, not retrained; each compared with the sampler baseline
    more = ["--sizes", "14", "--arms", "gan-sampler", "--share-caps", "0.5"]
    proc = subprocess.run(cmd[:8] + more + cmd[10:], capture_output=True, text=True,
                          timeout=600, cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "training already complete" in proc.stderr
    for folder in ("sampler", "cap0.5-sampler"):
        linked = out / "N14" / folder / "generators" / "seed1" / "NORMAL.pt"
        assert linked.samefile(out / "N14" / "main" / "generators" / "seed1" / "NORMAL.pt")
    size = json.loads((out / "rare_class.json").read_text())["sizes"]["14"]
    new = {"gan-sampler", "gan-sampler@cap0.5"}
    assert set(size["arms"]) == set(ARMS) | new
    assert new <= set(size["vs_classic"]) and new | {"baseline-sampler"} <= set(size["vs_baseline"])
    runs = {a: json.loads(p.read_text()) for a, p in (
        ("gan", out / "N14/sampler/runs/seed0/gan/result.json"),
        ("capped", out / "N14/cap0.5-sampler/runs/seed0/gan/result.json"),
    )}  # fmt: skip
    assert runs["capped"]["added"]["NORMAL"] < runs["gan"]["added"]["NORMAL"]


def test_missing_train_folder_is_one_line_and_a_non_zero_exit(tmp_path: Path) -> None:
    cmd = [sys.executable, str(SCRIPT), "--train", str(tmp_path / "missing"),
           "--test", str(tmp_path), "--out", str(tmp_path / "bench")]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("error: dataset path")
    assert not (tmp_path / "bench").exists()
