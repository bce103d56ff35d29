"""BalancedFolder over a real balance output: ImageFolder compatibility, provenance,
pixels, transforms of every supported kind, and clear errors for unusable folders."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from pathlib import Path

import albumentations as A
import pytest
import torch
from albumentations.pytorch import ToTensorV2
from torch.utils.data import DataLoader
from torchvision import transforms as T
from torchvision.datasets import ImageFolder
from torchvision.transforms import v2

from medaug.datasets import BalancedFolder
from medaug.errors import MedaugError
from tests.datasets.conftest import ADDED, COUNTS


def _copy(out: Path, dest: Path) -> Path:
    """A copy of the output without checkpoints and report (faster)."""
    return Path(shutil.copytree(out, dest, ignore=shutil.ignore_patterns("checkpoints", "report")))


def test_classes_targets_and_order_match_imagefolder(balanced_out: Path) -> None:
    ds = BalancedFolder(balanced_out)
    ref = ImageFolder(str(balanced_out / "dataset"), transform=T.ToTensor())
    assert ds.classes == ref.classes == ["NORMAL", "PNEUMONIA"]
    assert ds.class_to_idx == ref.class_to_idx
    assert ds.samples == ref.samples
    assert ds.imgs == ref.imgs
    assert ds.targets == ref.targets
    # ImageFolder's loader makes RGB: the same pixels, exactly, with channels=3
    rgb = BalancedFolder(balanced_out, channels=3)
    for i in range(len(ds)):
        assert torch.equal(rgb[i][0], ref[i][0]), ds.samples[i]


def test_counts_real_and_synthetic_indices_and_provenance(balanced_out: Path) -> None:
    ds = BalancedFolder(balanced_out)
    real, synthetic = ds.real_indices(), ds.synthetic_indices()
    assert len(ds) == sum(COUNTS.values()) + ADDED
    assert len(synthetic) == ADDED and len(real) == sum(COUNTS.values())
    assert sorted(real + synthetic) == list(range(len(ds)))
    sha = hashlib.sha256((balanced_out / "checkpoints" / "NORMAL.pt").read_bytes()).hexdigest()
    with open(balanced_out / "manifest.csv", newline="", encoding="utf-8") as fh:
        rows = {r["path"]: r for r in csv.DictReader(fh)}
    for i in synthetic:
        prov = ds.provenance(i)
        assert prov["source"] == "synthetic" and prov["generator"] == "dcgan"
        assert prov["seed"] == "0" and prov["checkpoint_sha256"] == sha
        assert prov["class"] == "NORMAL" and prov["target"] == ds.class_to_idx["NORMAL"]
        assert Path(prov["file"]).name.startswith("synthetic_0_")
    for i in real:
        prov = ds.provenance(i)
        assert prov["source"] == "real" and prov["generator"] == ""
        assert Path(prov["original_path"]).read_bytes() == Path(prov["file"]).read_bytes()
    for i in range(len(ds)):
        prov = ds.provenance(i)
        assert {k: prov[k] for k in rows[prov["path"]]} == rows[prov["path"]]
        assert balanced_out / prov["path"] == Path(prov["file"]) == Path(ds.samples[i][0])
        assert ds.classes[ds.targets[i]] == Path(prov["path"]).parts[1]
    assert ds.settings["image_size"] == 16


def test_images_are_float_unit_tensors_and_can_be_resized(balanced_out: Path) -> None:
    ds = BalancedFolder(balanced_out)
    shapes = set()
    for i in range(len(ds)):
        image, target = ds[i]
        assert image.dtype == torch.float32 and 0.0 <= image.min() <= image.max() <= 1.0
        assert isinstance(target, int)
        shapes.add(tuple(image.shape))
    assert shapes == {(1, 64, 64), (1, 16, 16)}  # real sample images and 16 px synthetic ones
    sized = BalancedFolder(balanced_out, image_size=24, channels=3)
    x, y = next(iter(DataLoader(sized, batch_size=len(sized))))
    assert x.shape == (len(sized), 3, 24, 24) and y.tolist() == sized.targets
    assert torch.equal(x[:, 0], x[:, 2])


def test_torchvision_v2_and_pil_transforms(balanced_out: Path) -> None:
    plain = BalancedFolder(balanced_out)
    flipped = BalancedFolder(balanced_out, transform=v2.RandomHorizontalFlip(p=1.0))
    assert torch.equal(flipped[0][0], plain[0][0].flip(-1))
    pil = BalancedFolder(balanced_out, transform=T.ToTensor(), transform_input="pil")
    assert torch.equal(pil[0][0], plain[0][0])
    resized = BalancedFolder(
        balanced_out, transform=T.Compose([T.Resize(8), T.ToTensor()]), transform_input="pil"
    )
    assert resized[0][0].shape == (1, 8, 8)
    labelled = BalancedFolder(balanced_out, target_transform=lambda t: f"class-{t}")
    assert labelled[len(labelled) - 1][1] == "class-1"


def test_albumentations_pipelines_are_detected(balanced_out: Path) -> None:
    plain = BalancedFolder(balanced_out)
    flip = BalancedFolder(balanced_out, transform=A.Compose([A.HorizontalFlip(p=1.0)]))
    image = flip[0][0]
    assert isinstance(image, torch.Tensor) and torch.equal(image, plain[0][0].flip(-1))
    single = BalancedFolder(balanced_out, transform=A.VerticalFlip(p=1.0))
    assert torch.equal(single[0][0], plain[0][0].flip(-2))
    to_tensor = BalancedFolder(balanced_out, transform=A.Compose([ToTensorV2()]))
    assert torch.equal(to_tensor[0][0], plain[0][0])


def test_monai_array_transforms_get_channel_first_tensors(balanced_out: Path) -> None:
    from monai.data import MetaTensor
    from monai.transforms import Compose, Flip, ScaleIntensity

    plain = BalancedFolder(balanced_out)
    ds = BalancedFolder(
        balanced_out, transform=Compose([Flip(spatial_axis=1), ScaleIntensity(minv=-1, maxv=1)])
    )
    image = ds[0][0]
    assert isinstance(image, MetaTensor) and image.shape == plain[0][0].shape
    expected = plain[0][0].flip(-1)
    expected = (expected - expected.min()) / (expected.max() - expected.min()) * 2 - 1
    assert torch.allclose(image.as_tensor(), expected, atol=1e-6)


def test_an_output_moved_elsewhere_still_reads(balanced_out: Path, tmp_path: Path) -> None:
    moved = _copy(balanced_out, tmp_path / "moved")
    record = json.loads((moved / ".medaug-run.json").read_text())
    assert Path(record["dataset_root"]) == balanced_out / "dataset"  # still the old place
    ds = BalancedFolder(moved)
    assert ds.dataset_root == moved / "dataset"
    assert ds.samples == ImageFolder(str(moved / "dataset")).samples


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("missing", "does not exist|is not a folder"),
        ("no-manifest", "not a medaug balance output"),
        ("dataset-folder", "is the dataset folder of a balance output; pass"),
        ("file-removed", "1 file\\(s\\) listed in .* are missing"),
        ("unfinished", "unfinished balance run.*--resume"),
        ("old-layout", "outside dataset/"),
        ("bad-option", "transform_input must be one of"),
    ],
)
def test_unusable_folders_and_options_are_one_line_errors(
    balanced_out: Path, tmp_path: Path, damage: str, message: str
) -> None:
    root = tmp_path / "nothing-here"
    kwargs: dict[str, str] = {}
    if damage == "no-manifest":
        root.mkdir()
    elif damage == "dataset-folder":
        root = balanced_out / "dataset"
    elif damage != "missing":
        root = _copy(balanced_out, tmp_path / "copy")
    if damage == "file-removed":
        next((root / "dataset" / "NORMAL").glob("synthetic_*.png")).unlink()
    elif damage == "unfinished":
        record = json.loads((root / ".medaug-run.json").read_text())
        (root / ".medaug-run.json").write_text(json.dumps({**record, "status": "running"}))
    elif damage == "old-layout":
        text = (root / "manifest.csv").read_text().replace("\ndataset/", "\n")
        (root / "manifest.csv").write_text(text)
    elif damage == "bad-option":
        kwargs["transform_input"] = "numpy"
    with pytest.raises(MedaugError, match=message) as info:
        BalancedFolder(root, **kwargs)  # type: ignore[arg-type]
    assert "\n" not in str(info.value)
