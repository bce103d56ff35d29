"""mixing_sampler: the realised share of synthetic draws (and of classes) matches what was
asked, within a few standard errors at a fixed seed; impossible requests are errors."""

from __future__ import annotations

import math
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from torch.utils.data import ConcatDataset, Subset, TensorDataset

from medaug.datasets import (
    BalancedFolder,
    ItemFormat,
    SyntheticImages,
    mixing_sampler,
    mixing_weights,
)
from medaug.errors import MedaugError

DRAWS = 20_000


def _draws(sampler: torch.utils.data.Sampler[int]) -> np.ndarray:
    return np.fromiter(iter(sampler), dtype=np.int64)


def _close(share: float, wanted: float, n: int = DRAWS) -> bool:
    """Within 4 standard errors of a binomial share over ``n`` draws."""
    return abs(share - wanted) <= 4 * math.sqrt(max(wanted * (1 - wanted), 1e-12) / n)


@pytest.fixture(scope="module")
def folder(balanced_out: Path) -> BalancedFolder:
    return BalancedFolder(balanced_out)


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.8])
def test_realised_synthetic_share(folder: BalancedFolder, fraction: float) -> None:
    # the folder itself holds 30% synthetic images: each fraction differs from that
    sampler = mixing_sampler(
        folder, fraction, num_samples=DRAWS, generator=torch.Generator().manual_seed(0)
    )
    idx = _draws(sampler)
    synthetic = np.array(folder.sources)[idx] == "synthetic"
    assert len(idx) == DRAWS
    assert _close(float(synthetic.mean()), fraction), synthetic.mean()


def test_class_balanced_share(folder: BalancedFolder) -> None:
    sampler = mixing_sampler(
        folder,
        0.4,
        num_samples=DRAWS,
        class_balanced=True,
        generator=torch.Generator().manual_seed(1),
    )
    idx = _draws(sampler)
    targets = np.array(folder.targets)[idx]
    synthetic = np.array(folder.sources)[idx] == "synthetic"
    normal = targets == folder.class_to_idx["NORMAL"]
    # uniform draws would give 0.3 synthetic and 0.6 of NORMAL synthetic; unbalanced
    # 0.4-mixing would give NORMAL 0.4 + 0.6 * 4/14 = 0.57 of the draws
    assert _close(float(synthetic.mean()), 0.4)
    assert _close(float(normal.mean()), 0.5)
    assert set(targets[synthetic]) == {folder.class_to_idx["NORMAL"]}
    # NORMAL: 0.4 synthetic + 0.1 real
    assert _close(float(synthetic[normal].mean()), 0.8, int(normal.sum()))


def test_every_image_of_a_kind_is_equally_likely(folder: BalancedFolder) -> None:
    weights = mixing_weights(
        np.array(folder.sources) == "synthetic", np.array(folder.targets), 0.25
    )
    assert math.isclose(weights.sum(), 1.0)
    syn = np.array(folder.synthetic_indices())
    real = np.array(folder.real_indices())
    np.testing.assert_allclose(weights[syn], 0.25 / len(syn))
    np.testing.assert_allclose(weights[real], 0.75 / len(real))


def test_extremes_and_reproducibility(folder: BalancedFolder) -> None:
    sources = np.array(folder.sources)
    only_real = _draws(mixing_sampler(folder, 0.0, generator=torch.Generator().manual_seed(0)))
    only_syn = _draws(mixing_sampler(folder, 1.0, generator=torch.Generator().manual_seed(0)))
    assert set(sources[only_real]) == {"real"} and set(sources[only_syn]) == {"synthetic"}
    assert len(only_real) == len(folder)  # num_samples defaults to the dataset's length
    a = _draws(mixing_sampler(folder, 0.4, generator=torch.Generator().manual_seed(7)))
    b = _draws(mixing_sampler(folder, 0.4, generator=torch.Generator().manual_seed(7)))
    c = _draws(mixing_sampler(folder, 0.4, generator=torch.Generator().manual_seed(8)))
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_subsets_and_concatenations(folder: BalancedFolder, balanced_out: Path) -> None:
    train = Subset(folder, list(range(0, len(folder), 2)))
    idx = _draws(
        mixing_sampler(train, 0.5, num_samples=DRAWS, generator=torch.Generator().manual_seed(2))
    )
    assert idx.max() < len(train)
    picked = np.array(train.indices)[idx]
    assert _close(float((np.array(folder.sources)[picked] == "synthetic").mean()), 0.5)

    real = Subset(folder, folder.real_indices())
    fresh = SyntheticImages(balanced_out, 50, items=ItemFormat(class_to_idx=folder.class_to_idx))
    both: ConcatDataset[Any] = ConcatDataset([real, fresh])
    idx = _draws(
        mixing_sampler(both, 0.2, num_samples=DRAWS, generator=torch.Generator().manual_seed(3))
    )
    assert _close(float((idx >= len(real)).mean()), 0.2)


@pytest.mark.parametrize(
    ("make", "kwargs", "message"),
    [
        ("folder", {"synthetic_fraction": 1.5}, "between 0 and 1"),
        ("folder", {"synthetic_fraction": 0.6, "class_balanced": True}, "between 0 and 0.5"),
        ("folder", {"num_samples": 0}, "num_samples must be at least 1"),
        ("real", {"synthetic_fraction": 0.3}, "has no synthetic images"),
        ("synthetic", {"synthetic_fraction": 0.3}, "has no real images"),
        ("tensors", {}, "needs a BalancedFolder, SyntheticImages"),
    ],
)
def test_impossible_requests_are_errors(
    folder: BalancedFolder, make: str, kwargs: dict, message: str
) -> None:
    datasets = {
        "folder": folder,
        "real": Subset(folder, folder.real_indices()),
        "synthetic": Subset(folder, folder.synthetic_indices()),
        "tensors": TensorDataset(torch.zeros(3, 1)),
    }
    with pytest.raises(MedaugError, match=message):
        mixing_sampler(datasets[make], **kwargs)


def test_train_reads_which_images_are_synthetic_from_the_manifest(
    balanced_out: Path, tmp_path: Path
) -> None:
    from medaug.errors import MedaugError
    from medaug.output.manifest import synthetic_files
    from medaug.training import ModelSpec, TrainConfig, TrainRequest
    from medaug.training.workflow import _train_and_val

    dataset = balanced_out / "dataset"
    assert len(synthetic_files(dataset)) == len(synthetic_files(balanced_out)) == 6
    assert synthetic_files(tmp_path) == frozenset()
    request = TrainRequest(
        data=dataset,
        out=tmp_path / "run",
        model=ModelSpec("simple-cnn"),
        config=TrainConfig(synthetic_weight=0.5),
        image_size=16,
    )
    train, val = _train_and_val(request, progress=False)
    assert train.origin.count("synthetic") + val.origin.count("synthetic") <= 6
    assert train.origin.count("synthetic") > 0 and set(val.origin) == {"real"}
    plain = TrainRequest(data=dataset, out=tmp_path / "p", model=ModelSpec("simple-cnn"))
    assert set(_train_and_val(plain, progress=False)[0].origin) == {"real"}
    copy = tmp_path / "copy"
    shutil.copytree(dataset, copy)
    with pytest.raises(MedaugError, match="synthetic_weight needs a balance output"):
        _train_and_val(replace(request, data=copy), progress=False)
