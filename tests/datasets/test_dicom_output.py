"""A balance output of DICOM input: real DICOMs read as medaug's DICOM reader reads them,
synthetic Secondary Captures as exactly what the generator made."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from medaug.balancing import BalanceConfig, balance
from medaug.data import DataOptions, load_dataset
from medaug.datasets import BalancedFolder, ItemFormat, SyntheticImages


@pytest.mark.slow
def test_dicom_balance_output(rsna_dicom_sample: Path, tmp_path: Path) -> None:
    options = DataOptions(labels=rsna_dicom_sample / "labels.csv", cache_dir=tmp_path / "cache")
    out = tmp_path / "out"
    balance(
        BalanceConfig(
            out=out,
            data=rsna_dicom_sample / "images",
            image_size=16,
            epochs=1,
            batch_size=4,
            device="cpu",
            progress=False,
            audit=False,
            options=options,
        )
    )
    ds = BalancedFolder(out, image_size=16)
    assert ds.classes == ["Lung Opacity", "No Lung Opacity _ Not Normal", "Normal"]
    assert all(Path(f).suffix == ".dcm" for f, _ in ds.samples)

    reference = load_dataset(  # the whole frame decoded, as BalancedFolder does
        rsna_dicom_sample / "images",
        image_size=16,
        progress=False,
        options=replace(options, reader_options={"decode": "full"}),
    )
    by_path = {str(r.path): reference.images[i] for i, r in enumerate(reference.records)}
    for i in ds.real_indices():
        expected = by_path[ds.provenance(i)["original_path"]].astype(np.float32) / 255
        # the reader rounds to 8 bits after resizing (BalancedFolder: a float image):
        # within 1.5 grey levels
        assert np.abs(ds.load_image(i).numpy() - expected).max() <= 1.5 / 255 + 1e-6

    synthetic = ds.synthetic_indices()
    assert synthetic
    streamed = SyntheticImages(out, 3, items=ItemFormat(class_to_idx=ds.class_to_idx))
    for i in synthetic:
        prov = ds.provenance(i)
        k = int(Path(prov["path"]).stem.rsplit("_", 1)[1])
        j = streamed.targets.index(ds.targets[i]) + k
        assert streamed.provenance(j)["name"] == Path(prov["path"]).name
        assert torch.equal(streamed.load_image(j), ds.load_image(i))
