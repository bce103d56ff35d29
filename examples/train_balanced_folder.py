"""Train a classifier on a ``medaug balance`` output with a plain PyTorch loop.

It reads the balanced folder with :class:`medaug.datasets.BalancedFolder` (torchvision v2
transforms), keeps a patient-grouped validation split of *real* images only, and draws
training batches with :func:`medaug.datasets.mixing_sampler` at a chosen share of
synthetic images, class-balanced.

Run::

    medaug balance --out balanced          # the bundled sample (a few minutes on a CPU)
    python examples/train_balanced_folder.py balanced --epochs 5

A smoke run takes seconds: ``--epochs 1 --image-size 16 --batch-size 8``.

Caveat: the generators saw every real image when the folder was balanced, validation ones
included. For a fair estimate, balance only your training split and validate (and test)
on real images kept apart from the start.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Subset
from torchmetrics.classification import MulticlassAccuracy
from torchvision.transforms import v2

from medaug.data import patient_from_name, split_groups
from medaug.datasets import BalancedFolder, mixing_sampler


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("balanced", type=Path, help="a medaug balance output folder (--out)")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--image-size", type=int, default=64)
    p.add_argument("--channels", type=int, choices=(1, 3), default=1)
    p.add_argument("--synthetic-fraction", type=float, default=0.3)
    p.add_argument("--val-fraction", type=float, default=0.2)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=0, help="DataLoader worker processes")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    return p.parse_args(argv)


def real_patient_split(
    ds: BalancedFolder, val_fraction: float, seed: int
) -> tuple[list[int], list[int]]:
    """Validation: real images of held-out patients. Training: all other images."""
    real = ds.real_indices()
    patients = [patient_from_name(ds.provenance(i)["original_path"]) for i in real]
    _, val_pos = split_groups(
        [ds.targets[i] for i in real], patients, val_fraction=val_fraction, seed=seed
    )
    val = sorted(real[p] for p in val_pos)
    held_out = set(val)
    return [i for i in range(len(ds)) if i not in held_out], val


def make_model(channels: int, num_classes: int) -> nn.Module:
    """A small CNN for any input size."""

    def block(cin: int, cout: int) -> nn.Sequential:
        return nn.Sequential(
            nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(), nn.MaxPool2d(2)
        )

    return nn.Sequential(
        block(channels, 16),
        block(16, 32),
        block(32, 64),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(64, num_classes),
    )


def evaluate(
    model: nn.Module, loader: DataLoader[Any], num_classes: int, device: torch.device
) -> dict[str, float]:
    """Accuracy and balanced accuracy (mean per-class recall) over ``loader``."""
    accuracy = MulticlassAccuracy(num_classes=num_classes, average="micro").to(device)
    balanced = MulticlassAccuracy(num_classes=num_classes, average="macro").to(device)
    model.eval()
    with torch.no_grad():
        for x, y in loader:
            pred = model(x.to(device)).argmax(1)
            accuracy.update(pred, y.to(device))
            balanced.update(pred, y.to(device))
    return {"val_acc": float(accuracy.compute()), "val_balanced_acc": float(balanced.compute())}


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    norm = v2.Normalize(mean=[0.5] * args.channels, std=[0.5] * args.channels)
    train_tf = v2.Compose(
        [v2.RandomHorizontalFlip(), v2.RandomAffine(degrees=5, translate=(0.05, 0.05)), norm]
    )
    opts: dict[str, Any] = {"image_size": args.image_size, "channels": args.channels}
    train_ds = BalancedFolder(args.balanced, transform=train_tf, **opts)
    val_ds = BalancedFolder(args.balanced, transform=norm, **opts)
    print(train_ds)
    train_idx, val_idx = real_patient_split(train_ds, args.val_fraction, args.seed)
    train_set = Subset(train_ds, train_idx)
    sampler = mixing_sampler(
        train_set,
        args.synthetic_fraction,
        class_balanced=True,
        generator=torch.Generator().manual_seed(args.seed),
    )
    is_synthetic = np.array([train_ds.sources[i] == "synthetic" for i in train_idx])
    val_loader = DataLoader(Subset(val_ds, val_idx), batch_size=args.batch_size)
    num_classes = len(train_ds.classes)
    model = make_model(args.channels, num_classes).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()
    history = []
    for epoch in range(1, args.epochs + 1):
        order = list(sampler)  # this epoch's draws: real and synthetic at the chosen share
        loader = DataLoader(
            train_set, batch_size=args.batch_size, sampler=order, num_workers=args.workers
        )
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
        row = {
            "epoch": epoch,
            "loss": total / seen,
            "synthetic_share": float(is_synthetic[order].mean()),
            **evaluate(model, val_loader, num_classes, device),
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
