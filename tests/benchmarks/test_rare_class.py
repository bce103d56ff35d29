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
GAN = ("gan", "gan-manifold", "gan-classifier")
ARMS = (
    *("baseline", "baseline-sampler", "classic", *GAN, "gan-sampler"),
    *(f"{arm}@cap0.5" for arm in (*GAN, "gan-sampler")),
)


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
        assert set(size["vs_classic"]) == {a for a in ARMS if a.startswith("gan")}
        curated = {r.split("/")[0] for r in size["curation"]}
        assert curated == {f"{a}{cap}" for a in GAN[1:] for cap in ("", "@cap0.5")}
    table = (out / "rare_class.md").read_text()
    assert table.count("\n| 14 |") == len(ARMS)
    assert (out / "rare_class.png").stat().st_size > 0
    assert json.loads(proc.stdout.strip().splitlines()[-1])["all"].keys() == set(ARMS)

    # the sampler arms and the capped gan arms: the seeds' generators trained once, in the
    # main folder, and linked into the others
    for folder in ("sampler", "cap0.5", "cap0.5-sampler"):
        linked = out / "N14" / folder / "generators" / "seed1" / "NORMAL.pt"
        assert linked.samefile(out / "N14" / "main" / "generators" / "seed1" / "NORMAL.pt")
    size = data["sizes"]["14"]
    assert set(size["vs_baseline"]) == set(ARMS) - {"baseline"}
    mean = {a: s["balanced_accuracy"]["mean"] for a, s in size["arms"].items()}
    for arm, baseline in (("gan-sampler", "baseline-sampler"), ("gan", "baseline")):
        paired = size["vs_baseline"][arm]["balanced_accuracy"]["mean"]  # seeds paired
        assert paired == pytest.approx(mean[arm] - mean[baseline])
    runs = {
        folder: json.loads((out / "N14" / folder / "runs/seed0/gan/result.json").read_text())
        for folder in ("sampler", "cap0.5-sampler")
    }
    assert runs["cap0.5-sampler"]["added"]["NORMAL"] < runs["sampler"]["added"]["NORMAL"]

    # other generator settings: other generators, trained anew, not linked
    other = [*cmd[:8], "--sizes", "14", "--seeds", "1", *cmd[12:], "--arms", "gan"]
    other[other.index("--gen-steps") + 1] = "12"
    proc = subprocess.run([*other, "--share-caps", "0.25", "--only-caps"], capture_output=True,
                          text=True, timeout=600, cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    own = out / "N14" / "cap0.25" / "generators" / "seed0" / "NORMAL.pt"
    assert not own.samefile(out / "N14" / "main" / "generators" / "seed0" / "NORMAL.pt")


def test_missing_train_folder_is_one_line_and_a_non_zero_exit(tmp_path: Path) -> None:
    cmd = [sys.executable, str(SCRIPT), "--train", str(tmp_path / "missing"),
           "--test", str(tmp_path), "--out", str(tmp_path / "bench")]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("error: dataset path")
    assert not (tmp_path / "bench").exists()
