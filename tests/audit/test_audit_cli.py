"""``medaug audit`` on folders and on a balance output, end to end (real sample images)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner, Result
from PIL import Image

from medaug.cli import build_cli
from medaug.output.layout import OutputLayout
from medaug.output.manifest import ManifestRow, write_manifest
from medaug.output.runstate import RunState
from medaug.testing.files import tree_hash

from .audit_helpers import noise
from .conftest import SAMPLE

FAST = ["--image-size", "32", "-X", "steps=10"]
CLASS_KEYS = {
    "n_real",
    "n_synthetic",
    "fid",
    "fid_std",
    "kid",
    "kid_std",
    "precision",
    "recall",
    "density",
    "coverage",
    "c2st_auc",
    "baseline",
    "memorization",
}
FIGURES = CLASS_KEYS - {"n_real", "n_synthetic", "baseline", "memorization"}


def run(args: list[str], code: int = 0) -> Result:
    result = CliRunner().invoke(build_cli(), args, catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result


def _save(image: torch.Tensor, path: Path) -> None:
    arr = ((image[0] + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).numpy()
    Image.fromarray(arr, mode="L").save(path)


def _copy(names: list[Path], folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copy2(p, folder / p.name)) for p in names]


def _planted_copy(source: Path, target: Path) -> None:
    """A near-copy of a real image: the same X-ray with a little noise."""
    with Image.open(source) as img:
        arr = torch.from_numpy(__import__("numpy").asarray(img.convert("L"), dtype="float32"))
    _save(noise(arr[None] / 127.5 - 1.0, 0.04), target)


@pytest.fixture
def folders(tmp_path: Path) -> dict[str, Path]:
    """Flat folders: 30 real NORMAL, 14 'synthetic' (12 other patients + 2 planted copies)."""
    normal = sorted((SAMPLE / "NORMAL").glob("*.png"))
    pneumonia = sorted((SAMPLE / "PNEUMONIA").glob("*.png"))
    real = _copy(normal[:30], tmp_path / "real")
    synthetic = tmp_path / "gen" / "NORMAL"
    _copy(pneumonia[:12], synthetic)
    _planted_copy(real[4], synthetic / "synthetic_copy_a.png")
    _planted_copy(real[17], synthetic / "synthetic_copy_b.png")
    return {"real": tmp_path / "real", "synthetic": synthetic, "copies": tmp_path}


def test_audit_folders_prints_the_stable_json_keys(
    folders: dict[str, Path], tmp_path: Path
) -> None:
    before = {k: tree_hash(v) for k, v in folders.items() if k != "copies"}
    out = tmp_path / "audit"
    args = ["audit", "--real", str(folders["real"]), "--synthetic", str(folders["synthetic"])]
    args += ["--train", str(folders["real"]), "--out", str(out), *FAST, "--json"]
    data = json.loads(run(args).stdout)
    assert data["extractor"] == "domain"
    assert list(data["classes"]) == ["NORMAL"]  # named after the synthetic folder
    cls = data["classes"]["NORMAL"]
    assert set(cls) >= CLASS_KEYS
    assert set(cls["baseline"]) >= FIGURES
    assert (cls["n_real"], cls["n_synthetic"]) == (30, 14)
    memorization = cls["memorization"]
    assert {"threshold", "flagged"} <= set(memorization)
    flagged = {(f["synthetic"], f["train"]) for f in memorization["flagged"]}
    real_names = sorted(p.name for p in folders["real"].iterdir())
    assert flagged == {
        ("synthetic_copy_a.png", real_names[4]),
        ("synthetic_copy_b.png", real_names[17]),
    }
    assert all(0 < f["similarity"] <= 1 for f in memorization["flagged"])
    written = sorted(p.name for p in out.iterdir())
    assert written == [
        ".medaug-output.json",  # medaug's marker: the folder is its own (docs/reliability.md)
        "audit.json",
        "audit.md",
        "closest_pairs_NORMAL.png",
        "extractor.pt",
    ]
    assert json.loads((out / "audit.json").read_text())["classes"]["NORMAL"]["fid"] == cls["fid"]
    assert "closest_pairs_NORMAL.png" in (out / "audit.md").read_text()
    assert before == {k: tree_hash(v) for k, v in folders.items() if k != "copies"}


def test_audit_human_output_names_extractor_figures_and_verdict(folders: dict[str, Path]) -> None:
    args = ["audit", "--real", str(folders["real"]), "--synthetic", str(folders["synthetic"])]
    text = run([*args, *FAST]).output
    for word in ("extractor: domain", "FID", "C2ST AUC", "real vs real", "memorization: 2 of 14"):
        assert word in text
    assert "verdict:" in text


def _fake_balance_output(root: Path) -> Path:
    """A balance output: NORMAL grown with 14 synthetic files (2 near-copies), PNEUMONIA not."""
    layout = OutputLayout(root)
    normal = _copy(sorted((SAMPLE / "NORMAL").glob("*.png"))[:30], layout.class_dir("NORMAL"))
    pneumonia = _copy(
        sorted((SAMPLE / "PNEUMONIA").glob("*.png"))[:40], layout.class_dir("PNEUMONIA")
    )
    rows = [ManifestRow(layout.relative(p), "NORMAL", "real", original_path=str(p)) for p in normal]
    rows += [ManifestRow(layout.relative(p), "PNEUMONIA", "real") for p in pneumonia]
    others = sorted((SAMPLE / "PNEUMONIA").glob("*.png"))[40:52]
    for i, src in enumerate(others):
        target = layout.class_dir("NORMAL") / f"synthetic_0_{i:05d}.png"
        shutil.copy2(src, target)
        rows.append(ManifestRow(layout.relative(target), "NORMAL", "synthetic", seed="0"))
    for i, src in enumerate((normal[2], normal[9]), start=len(others)):
        target = layout.class_dir("NORMAL") / f"synthetic_0_{i:05d}.png"
        _planted_copy(src, target)
        rows.append(ManifestRow(layout.relative(target), "NORMAL", "synthetic", seed="0"))
    write_manifest(layout.manifest, rows)
    RunState(settings={"image_size": 32, "channels": "1"}, status="complete").save(root)
    return root


def test_audit_of_a_balance_output_audits_each_grown_class(tmp_path: Path) -> None:
    out = _fake_balance_output(tmp_path / "balanced")
    data = json.loads(run(["audit", str(out), "-X", "steps=10", "--json"]).stdout)
    assert list(data["classes"]) == ["NORMAL"]
    cls = data["classes"]["NORMAL"]
    assert (cls["n_real"], cls["n_synthetic"]) == (30, 14)
    assert {f["synthetic"] for f in cls["memorization"]["flagged"]} == {
        "NORMAL/synthetic_0_00012.png",
        "NORMAL/synthetic_0_00013.png",
    }
    assert data["image_size"] == 32  # the run's own working size
    report = OutputLayout(out).report_dir / "audit"
    assert (report / "audit.json").is_file() and (report / "closest_pairs_NORMAL.png").is_file()


def test_audit_a_class_that_was_not_grown_is_an_error(tmp_path: Path) -> None:
    out = _fake_balance_output(tmp_path / "balanced")
    result = run(["audit", str(out), "--class", "PNEUMONIA"], code=1)
    assert "no synthetic images of PNEUMONIA" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give a balance OUTPUT folder, or both --real and --synthetic"),
        (["--real", "."], "give a balance OUTPUT folder, or both --real and --synthetic"),
        (["out", "--real", "a", "--synthetic", "b"], "not both"),
    ],
)
def test_usage_errors(args: list[str], message: str) -> None:
    assert message in run(["audit", *args], code=2).output


def test_backbone_without_weights_is_one_line(folders: dict[str, Path]) -> None:
    args = ["audit", "--real", str(folders["real"]), "--synthetic", str(folders["synthetic"])]
    result = run([*args, "--image-size", "32", "--extractor", "timm:resnet18"], code=1)
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1
    assert "needs a local weights file: pass --weights FILE" in lines[0]
    assert "Traceback" not in result.output


def test_not_a_balance_output_is_a_clear_error(tmp_path: Path) -> None:
    result = run(["audit", str(tmp_path)], code=1)
    assert "is not a medaug balance output" in result.output


def test_a_flat_dicom_folder_reads_as_one_class(rsna_dicom_sample: Path) -> None:
    from medaug.auditing.sources import load_folder

    images, channels = load_folder(rsna_dicom_sample / "images", image_size=32)
    assert images.images.shape == (16, 1, 32, 32) and channels == 1
    assert all(i.endswith(".dcm") for i in images.ids)
