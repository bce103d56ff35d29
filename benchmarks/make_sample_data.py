"""Rebuild medaug's bundled demo dataset from the ChestXray2017 training split.

Picks NORMAL and PNEUMONIA images deterministically (smallest SHA-256 of the file name,
so the choice does not depend on directory order), converts them to 64 px grayscale PNG
and writes them with the attribution notice to
``medaug/sample_data/chestxray2017-sample/{NORMAL,PNEUMONIA}/``.

    python benchmarks/make_sample_data.py /path/to/chest_xray/train
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
from pathlib import Path

from PIL import Image

COUNTS = {"NORMAL": 100, "PNEUMONIA": 290}
SIZE = 64
DEST = Path(__file__).resolve().parents[1] / "medaug" / "sample_data" / "chestxray2017-sample"

NOTICE = """\
# ChestXray2017 demo sample

{normal} NORMAL and {pneumonia} PNEUMONIA chest X-rays from the training split of the
ChestXray2017 dataset, reduced to {size}x{size} px grayscale PNG. medaug balances this folder
when `medaug balance` is run without DATA (a demo, not a benchmark).

## Source and license

D. Kermany, K. Zhang, M. Goldbaum, "Labeled Optical Coherence Tomography (OCT) and Chest
X-Ray Images for Classification", Mendeley Data, v2 (2018), doi:10.17632/rscbjbr9sj.2.

Licensed under the Creative Commons Attribution 4.0 International license (CC BY 4.0),
https://creativecommons.org/licenses/by/4.0/. Changes made: a deterministic subset was
selected and every image was converted to grayscale and resized to {size}x{size} px. Keep
this notice with any copy.

## How it was made

`python benchmarks/make_sample_data.py chest_xray/train`: for each class, the files with the
smallest SHA-256 of their file name are taken, converted to 8-bit grayscale ("L") and
resized with Lanczos filtering. File names are the originals, with a `.png` extension.
"""


def pick(folder: Path, n: int) -> list[Path]:
    """The ``n`` files of ``folder`` with the smallest SHA-256 of their name."""
    files = [p for p in folder.iterdir() if p.suffix.lower() in (".jpeg", ".jpg", ".png")]
    files.sort(key=lambda p: hashlib.sha256(p.name.encode()).hexdigest())
    if len(files) < n:
        raise SystemExit(f"{folder} has {len(files)} images, need {n}")
    return sorted(files[:n])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("train", type=Path, help="ChestXray2017 train folder")
    parser.add_argument("--dest", type=Path, default=DEST)
    args = parser.parse_args()
    if args.dest.exists():
        shutil.rmtree(args.dest)
    for cls, n in COUNTS.items():
        out = args.dest / cls
        out.mkdir(parents=True)
        for src in pick(args.train / cls, n):
            with Image.open(src) as im:
                small = im.convert("L").resize((SIZE, SIZE), Image.Resampling.LANCZOS)
                small.save(out / f"{src.stem}.png", optimize=True)
    (args.dest / "NOTICE.md").write_text(
        NOTICE.format(normal=COUNTS["NORMAL"], pneumonia=COUNTS["PNEUMONIA"], size=SIZE),
        encoding="utf-8",
    )
    total = sum(p.stat().st_size for p in args.dest.rglob("*") if p.is_file())
    print(f"wrote {sum(COUNTS.values())} images, {total / 1e6:.2f} MB, to {args.dest}")


if __name__ == "__main__":
    main()
