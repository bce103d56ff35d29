"""Train a MONAI classifier on a ``medaug balance`` output, with MONAI transforms.

:class:`medaug.datasets.BalancedFolder` hands each image to the transform as a
channel-first float tensor in ``[0, 1]``, which is what MONAI array transforms take; they
return ``MetaTensor`` s, which ``monai.data.DataLoader`` collates. Validation uses real
images of held-out patients only; training draws real and synthetic images at a chosen
share with :func:`medaug.datasets.mixing_sampler`.

Run::

    medaug balance --out balanced          # the bundled sample (a few minutes on a CPU)
    python examples/train_with_monai.py balanced --epochs 5

A smoke run takes seconds: ``--epochs 1 --image-size 16 --batch-size 8``. The same caveat
as in ``train_balanced_folder.py`` applies: balance only your training split for a fair
validation.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from monai.data import DataLoader
from monai.networks.nets import Classifier
from monai.transforms import (
    Compose,
    RandFlip,
    RandGaussianNoise,
    RandRotate,
    ScaleIntensityRange,
)
from monai.utils import set_determinism
from sklearn.metrics import accuracy_score, balanced_accuracy_score
from torch.utils.data import Subset

from medaug.data import patient_from_name, split_groups
from medaug.datasets import BalancedFolder, mixing_sampler


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("balanced", type=Path, help="a medaug balance output folder (--out)")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--image-size", type=int, default=64)
    p.add_argument("--synthetic-fraction", type=float, default=0.3)
    p.add_argument("--val-fraction", type=float, default=0.2)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    return p.parse_args(argv)


def transforms(train: bool) -> Compose:
    """MONAI array transforms on ``(1, H, W)`` tensors in ``[0, 1]``."""
    steps: list[Any] = []
    if train:
        steps += [
            RandFlip(prob=0.5, spatial_axis=1),
            RandRotate(range_x=0.1, prob=0.5, padding_mode="zeros"),
            RandGaussianNoise(prob=0.3, std=0.02),
        ]
    steps.append(ScaleIntensityRange(a_min=0.0, a_max=1.0, b_min=-1.0, b_max=1.0))
    return Compose(steps)


def split(ds: BalancedFolder, val_fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """Validation: real images of held-out patients. Training: all other images."""
    real = ds.real_indices()
    patients = [patient_from_name(ds.provenance(i)["original_path"]) for i in real]
    _, val_pos = split_groups(
        [ds.targets[i] for i in real], patients, val_fraction=val_fraction, seed=seed
    )
    val = sorted(real[p] for p in val_pos)
    held_out = set(val)
    return [i for i in range(len(ds)) if i not in held_out], val


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    set_determinism(seed=args.seed)
    device = torch.device(args.device)
    train_ds = BalancedFolder(
        args.balanced, transform=transforms(True), image_size=args.image_size, channels=1
    )
    val_ds = BalancedFolder(
        args.balanced, transform=transforms(False), image_size=args.image_size, channels=1
    )
    print(train_ds)
    train_idx, val_idx = split(train_ds, args.val_fraction, args.seed)
    train_set = Subset(train_ds, train_idx)
    sampler = mixing_sampler(
        train_set,
        args.synthetic_fraction,
        class_balanced=True,
        generator=torch.Generator().manual_seed(args.seed),
    )
    is_synthetic = np.array([train_ds.sources[i] == "synthetic" for i in train_idx])
    val_loader = DataLoader(Subset(val_ds, val_idx), batch_size=args.batch_size)
    model = Classifier(
        in_shape=(1, args.image_size, args.image_size),
        classes=len(train_ds.classes),
        channels=(8, 16, 32),
        strides=(2, 2, 2),
        num_res_units=1,
    ).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    history = []
    for epoch in range(1, args.epochs + 1):
        order = list(sampler)
        loader = DataLoader(train_set, batch_size=args.batch_size, sampler=order)
        model.train()
        total, seen = 0.0, 0
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(y)
            seen += len(y)
        model.eval()
        truth, predicted = [], []
        with torch.no_grad():
            for x, y in val_loader:
                predicted += model(x.to(device)).argmax(1).cpu().tolist()
                truth += y.tolist()
        row = {
            "epoch": epoch,
            "loss": total / seen,
            "synthetic_share": float(is_synthetic[order].mean()),
            "val_acc": float(accuracy_score(truth, predicted)),
            "val_balanced_acc": float(balanced_accuracy_score(truth, predicted)),
        }
        history.append(row)
        print(
            f"epoch {epoch}/{args.epochs}  loss {row['loss']:.4f}  "
            f"trained on {seen} images ({row['synthetic_share']:.0%} synthetic)  "
            f"val acc {row['val_acc']:.3f}  balanced acc {row['val_balanced_acc']:.3f}"
        )
    return {
        "train_images": len(train_idx),
        "val_indices": val_idx,
        "classes": train_ds.classes,
        "history": history,
    }


if __name__ == "__main__":
    main()
