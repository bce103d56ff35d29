"""A patient-grouped development split of a ``ROOT/<class>/`` folder, made of symlinks.

The official ChestXray2017 test split is not always at hand; tuning on it would also
spoil it. This carves a held-out "test" part from the train folder instead, grouped by
patient (``medaug.data.patient_split``: no patient on both sides) and stratified by
class, and writes ``OUT/train/<class>/`` and ``OUT/test/<class>/`` as symlinks to the
original files (nothing is copied; the input is never written)::

    python benchmarks/dev_split.py ../shared/datasets/chestxray2017/train --out /tmp/dev

With the default seed 123 and 20% this gives 1,079 / 3,106 train and 270 / 777 test
(NORMAL / PNEUMONIA) for ChestXray2017: the development split of ``docs/results.md``.
Prints the counts as JSON.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from medaug.data import patient_split
from medaug.data.scan import scan_dataset


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path, help="a ROOT/<class>/ image folder")
    parser.add_argument("--out", type=Path, required=True, help="new folder for train/ test/")
    parser.add_argument("--test-fraction", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=123)
    args = parser.parse_args(argv)
    if args.out.exists() and any(args.out.iterdir()):
        parser.error(f"{args.out} exists and is not empty")
    scan = scan_dataset(args.root)
    train_idx, test_idx = patient_split(scan, val_fraction=args.test_fraction, seed=args.seed)
    counts: dict[str, dict[str, int]] = {}
    for part, idx in (("train", train_idx), ("test", test_idx)):
        for i in idx:
            record = scan.records[i]
            src = Path(record.path).resolve()
            dst = args.out / part / record.label / src.name
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.symlink_to(src)
            counts.setdefault(part, {}).setdefault(record.label, 0)
            counts[part][record.label] += 1
    print(json.dumps({k: dict(sorted(v.items())) for k, v in counts.items()}))


if __name__ == "__main__":
    main()
