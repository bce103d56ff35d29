"""The paper's experiment on ChestXray2017 at 64 px, on CPU (Karnati & Reddy, Table II).

A DCGAN is trained on the Normal (minority) images of the training part only, 400
synthetic Normal images are added (``--synthetic 400``), and the same CNN is trained
on the original, the GAN-balanced and the classically oversampled training sets,
for 3 seeds each; every run selects its epoch and decision threshold on a
patient-grouped validation split of the train folder. The test folder is only used
for the final numbers.

Full run (about 25-40 minutes on 2 idle CPU cores, under 60 when the cores are shared;
see docs/results.md for the measured per-epoch times)::

    python benchmarks/paper_experiment.py \\
        --train ../shared/datasets/chestxray2017/train --test chest_xray/test --out bench/

Reduced run (1 seed, fewer epochs; for a quick look, not for the results table)::

    python benchmarks/paper_experiment.py --train ... --test ... --out bench-quick/ --quick

The run is resumable: rerun the same command after an interruption. Numbers are
written to OUT/results.json and OUT/report.md. Never tune these settings on the test
folder: use a patient-grouped split of the train folder as ``--test`` while tuning.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from medaug.console import console, err_console
from medaug.experiments import ExperimentConfig, run_experiment
from medaug.experiments.report import rich_table
from medaug.training import TrainConfig

#: settings of the full benchmark (documented in docs/results.md)
FULL = {
    "seeds": 3,
    "epochs": 20,
    "gen_epochs": 25,
}
#: the reduced benchmark
QUICK = {
    "seeds": 1,
    "epochs": 6,
    "gen_epochs": 4,
}


def build_config(args: argparse.Namespace) -> ExperimentConfig:
    """The experiment settings: paper-like data, CPU-sized models, robust training."""
    preset = QUICK if args.quick else FULL
    seeds = args.seeds or preset["seeds"]
    epochs = args.epochs or preset["epochs"]
    gen_epochs = args.gen_epochs or preset["gen_epochs"]
    return ExperimentConfig(
        train=args.train,
        test=args.test,
        out=args.out,
        classifier="simple-cnn",
        generator="dcgan",
        arms=("baseline", "gan", "classic"),
        seeds=seeds,
        image_size=64,
        channels=1,
        synthetic=400,  # the paper's 400 synthetic Normal images
        strategy="minority",
        val_fraction=0.2,
        train_config=TrainConfig(
            epochs=epochs,
            batch_size=64,
            lr=2e-3,
            weight_decay=1e-4,
            class_weights="balanced",
            label_smoothing=0.05,
            monitor="balanced_accuracy",
            patience=max(4, epochs // 3),
            threshold="calibrate",
        ),
        augment="strong",
        classic_augment="standard",
        # a DCGAN with 32 base filters: 4x cheaper than 64 on CPU
        generator_options={"ngf": 32, "ndf": 32},
        gen_epochs=gen_epochs,
        gen_batch_size=32,
        device=args.device,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=Path, required=True, help="ChestXray2017 train folder")
    parser.add_argument("--test", type=Path, required=True, help="a separate test folder")
    parser.add_argument("--out", type=Path, default=Path("bench-paper"))
    parser.add_argument("--quick", action="store_true", help="reduced run (1 seed, 6 epochs)")
    parser.add_argument("--seeds", type=int, default=None)
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--gen-epochs", type=int, default=None)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = build_config(args)
    started = time.perf_counter()
    results = run_experiment(cfg, log=lambda m: err_console.print(m, markup=False), progress=True)
    console.print(rich_table(results))
    for line in results["sentences"]:
        console.print(line)
    minutes = (time.perf_counter() - started) / 60
    console.print(f"{minutes:.1f} min this invocation; report: {args.out / 'report.md'}")


if __name__ == "__main__":
    main()
