"""Use medaug as a library: load a dataset, train a generator on its rare class, sample,
and balance a folder with provenance, the same way the command line does.

Run: ``python examples/use_from_python.py [OUT]`` (about a minute on a laptop CPU; it uses
the bundled ChestXray2017 sample, CC BY 4.0, so it needs no data of yours).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from torchvision.utils import save_image

import medaug
from medaug.balancing import BalanceConfig, balance, resolve_targets, sample_data_path
from medaug.data import load_dataset, patient_split


def main(out: Path) -> None:
    device = medaug.resolve_device("auto")
    medaug.seed_everything(0)

    # 1. read a class-folder dataset (decoded once, then served from the cache)
    ds = load_dataset(sample_data_path(), image_size=32)
    print("classes:", ds.counts(), "| plan:", resolve_targets(ds.counts()))
    train_idx, val_idx = patient_split(ds, val_fraction=0.2, seed=0)
    print(f"patient-grouped split: {len(train_idx)} train / {len(val_idx)} validation")

    # 2. any registered generator, through the same registry the CLI uses
    print("generators:", medaug.list_generators())
    gen = medaug.create_generator("dcgan", image_size=32, channels=ds.channels, device=device)
    normal = ds.to_tensor(ds.class_indices("NORMAL"))  # (N, C, 32, 32) in [-1, 1]
    gen.fit(normal, epochs=2, batch_size=16, seed=0)
    fake = gen.sample(16, seed=1)
    save_image(fake * 0.5 + 0.5, out / "samples.png", nrow=4)

    # 3. or the whole balance pipeline, with manifest, report and checkpoints
    result = balance(
        BalanceConfig(out=out / "balanced", image_size=32, epochs=2, count=20, progress=False)
    )
    print("balanced:", result.summary["counts_after"], "->", result.summary["manifest"])


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="medaug-"))
    target.mkdir(parents=True, exist_ok=True)
    main(target)
