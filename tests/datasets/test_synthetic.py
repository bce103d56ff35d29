"""SyntheticImages: the pixels ``balance`` and ``generate`` write for the same checkpoint
and seed, deterministic in any access order, with ImageFolder-style targets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from torch.utils.data import ConcatDataset, Subset
from torchvision.transforms import v2

from medaug.balancing.generation import generate
from medaug.datasets import BalancedFolder, ItemFormat, SyntheticImages
from medaug.datasets.pixels import read_image
from medaug.errors import MedaugError
from medaug.output.manifest import read_manifest
from tests.datasets.conftest import ADDED


def test_same_pixels_as_the_balance_run(balanced_out: Path) -> None:
    folder = BalancedFolder(balanced_out)
    files = [folder.load_image(i) for i in folder.synthetic_indices()]
    for source in (
        balanced_out,
        balanced_out / "checkpoints",
        balanced_out / "checkpoints/NORMAL.pt",
    ):
        ds = SyntheticImages(source, ADDED, items=ItemFormat(class_to_idx=folder.class_to_idx))
        assert len(ds) == ADDED
        for i, expected in enumerate(files):
            image, target = ds[i]
            assert torch.equal(image, expected)
            assert target == folder.class_to_idx["NORMAL"]
            assert (
                ds.provenance(i)["name"]
                == Path(folder.samples[folder.synthetic_indices()[i]][0]).name
            )


def test_same_pixels_as_generate_across_chunks(balanced_out: Path, tmp_path: Path) -> None:
    n = 70  # more than one chunk of 64
    result = generate(balanced_out / "checkpoints" / "NORMAL.pt", n, tmp_path / "more", seed=3)
    rows = sorted(read_manifest(result.manifest), key=lambda r: r.path)
    assert len(rows) == n
    ds = SyntheticImages(balanced_out / "checkpoints" / "NORMAL.pt", n, seed=3)
    for i in reversed(range(n)):  # backwards: order of access must not matter
        prov = ds.provenance(i)
        row = rows[i]
        assert Path(row.path).name == prov["name"] == f"synthetic_3_{i:05d}.png"
        assert prov["checkpoint_sha256"] == row.checkpoint_sha256
        assert (prov["seed"], prov["generator"]) == (row.seed, row.generator)
        expected = torch.from_numpy(read_image(result.out / row.path))
        assert torch.equal(ds.load_image(i), expected), i


def test_deterministic_per_seed_and_transformed(balanced_out: Path) -> None:
    a = SyntheticImages(balanced_out, 3, seed=5)
    flip = ItemFormat(transform=v2.RandomHorizontalFlip(p=1.0))
    b = SyntheticImages(balanced_out, 3, seed=5, items=flip)
    c = SyntheticImages(balanced_out, 3, seed=6)
    for i in range(3):
        assert torch.equal(a[i][0].flip(-1), b[i][0])
        assert not torch.equal(a[i][0], c[i][0])
    image = a[0][0]
    assert image.shape == (1, 16, 16) and image.dtype == torch.float32
    assert 0.0 <= image.min() <= image.max() <= 1.0
    assert a.classes == ["NORMAL"] and a.targets == [0, 0, 0]
    assert torch.equal(a[-1][0], a[2][0])
    with pytest.raises(IndexError):
        a[3]


def test_targets_follow_class_to_idx_and_concatenate(balanced_out: Path) -> None:
    folder = BalancedFolder(balanced_out)
    mapping = {"NORMAL": 1, "PNEUMONIA": 0}
    ds = SyntheticImages(balanced_out, 2, items=ItemFormat(class_to_idx=mapping))
    assert ds.targets == [1, 1] and ds.classes == ["PNEUMONIA", "NORMAL"]
    real = Subset(folder, folder.real_indices())
    both: ConcatDataset[Any] = ConcatDataset(
        [real, SyntheticImages(balanced_out, 4, items=ItemFormat(class_to_idx=folder.class_to_idx))]
    )
    assert len(both) == len(folder.real_indices()) + 4
    assert both[len(both) - 1][1] == folder.class_to_idx["NORMAL"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": 0}, "n must be at least 1"),
        ({"seed": -1}, "seed must be >= 0"),
        ({"class_name": "PNEUMONIA"}, "no checkpoint models class 'PNEUMONIA'; these do: NORMAL"),
        (
            {"items": ItemFormat(class_to_idx={"PNEUMONIA": 0})},
            "class_to_idx has no entry for NORMAL",
        ),
        ({"items": ItemFormat(transform_input="numpy")}, "transform_input must be one of"),
        ({"items": ItemFormat(image_size=0)}, "image_size must be at least 1, got 0"),
    ],
)
def test_bad_arguments_are_one_line_errors(balanced_out: Path, kwargs: dict, message: str) -> None:
    args = {"n": 2, **kwargs}
    with pytest.raises(MedaugError, match=message):
        SyntheticImages(balanced_out, **args)


def test_missing_checkpoint_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(MedaugError, match="does not exist"):
        SyntheticImages(tmp_path / "nope.pt", 2)
    with pytest.raises(MedaugError, match=r"no checkpoint \(\*\.pt\)"):
        SyntheticImages(tmp_path, 2)


def test_resized_and_converted_like_balanced_folder(balanced_out: Path) -> None:
    folder = BalancedFolder(balanced_out, image_size=32, channels=3)
    ds = SyntheticImages(balanced_out, ADDED, items=ItemFormat(image_size=32, channels=3))
    for k, i in enumerate(folder.synthetic_indices()):
        assert ds.load_image(k).shape == (3, 32, 32)
        assert torch.equal(ds.load_image(k), folder.load_image(i))
    plain = SyntheticImages(balanced_out, 2)
    before = plain.load_image(0).clone()
    image = plain.load_image(0)
    image += 1  # a copy: the kept chunk is untouched
    assert torch.equal(plain.load_image(0), before)


def test_the_old_keyword_arguments_still_work_with_a_deprecation_warning(
    balanced_out: Path,
) -> None:
    folder = BalancedFolder(balanced_out)
    new = SyntheticImages(
        balanced_out, 2, items=ItemFormat(class_to_idx=folder.class_to_idx, image_size=8)
    )
    with pytest.warns(DeprecationWarning, match="class_to_idx, image_size are deprecated"):
        old = SyntheticImages(balanced_out, 2, class_to_idx=folder.class_to_idx, image_size=8)  # type: ignore[call-arg]
    assert old.targets == new.targets and old.image_size == new.image_size == 8
    assert torch.equal(old[1][0], new[1][0])
    with pytest.warns(DeprecationWarning), pytest.raises(MedaugError, match="image_size must"):
        SyntheticImages(balanced_out, 2, image_size=0)  # type: ignore[call-arg]
