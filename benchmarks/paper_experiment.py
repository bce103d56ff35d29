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

The GAN arm uses the ``dcgan`` defaults (``--setup default``: the ``compact`` preset,
trained ``DEFAULT_STEPS`` steps at batch 64); ``--setup v0.1.0`` repeats medaug 0.1.0's
benchmark DCGAN (the paper's DCGAN at ngf = ndf = 32, 25 epochs at batch 32) for the
comparison row. ``benchmarks/dev_split.py`` makes the patient-grouped development split
used while the official test split is not at hand.

Another generator in the gan arm, e.g. a small diffusion model at 32 px, seeds shared out
between two processes with torchrun::

    torchrun --standalone --nproc_per_node 2 benchmarks/paper_experiment.py --train ... \
        --test ... --out bench-ddpm32/ --arms baseline,gan --generator ddpm --image-size 32 \
        --gen-steps 3000 --gen-batch-size 32 --gen-option width=16 --gen-option attention_res=0 \
        --threads 1

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
from typing import Any

import torch

from medaug import distributed as dist
from medaug.balancing.config import DEFAULT_BATCH_SIZE, DEFAULT_STEPS
from medaug.cli.options import parse_key_values
from medaug.console import console, err_console
from medaug.experiments import ExperimentConfig, run_experiment
from medaug.experiments.report import rich_table
from medaug.training import TrainConfig

#: settings of the full benchmark (documented in docs/results.md)
FULL = {"seeds": 3, "epochs": 20}
#: the reduced benchmark
QUICK = {"seeds": 1, "epochs": 6}
#: the GAN arm's generator: today's dcgan defaults, or medaug 0.1.0's benchmark DCGAN;
#: the training length is steps (``gen_steps``) or epochs (``gen_epochs``), full / quick
SETUPS: dict[str, dict[str, Any]] = {
    "default": {
        "generator_options": {},
        "gen_steps": (DEFAULT_STEPS, 200),
        "gen_batch_size": DEFAULT_BATCH_SIZE,
    },
    "v0.1.0": {
        "generator_options": {"preset": "paper", "ngf": 32, "ndf": 32},
        "gen_epochs": (25, 4),
        "gen_batch_size": 32,
    },
}


def build_config(args: argparse.Namespace) -> ExperimentConfig:
    """The experiment settings: paper-like data, CPU-sized models, robust training."""
    preset = QUICK if args.quick else FULL
    seeds = args.seeds or preset["seeds"]
    epochs = args.epochs or preset["epochs"]
    setup = SETUPS[args.setup] if args.generator == "dcgan" else SETUPS["default"]
    generator_options = {
        **setup["generator_options"],
        **parse_key_values(args.gen_option, "--gen-option"),
    }
    length: dict[str, int | None] = {"gen_epochs": None, "gen_steps": None}
    for key in ("gen_epochs", "gen_steps"):
        if key in setup:
            length[key] = setup[key][1 if args.quick else 0]
    if args.gen_epochs:
        length = {"gen_epochs": args.gen_epochs, "gen_steps": None}
    if args.gen_steps:
        length = {"gen_epochs": None, "gen_steps": args.gen_steps}
    return ExperimentConfig(
        train=args.train,
        test=args.test,
        out=args.out,
        classifier="simple-cnn",
        generator=args.generator,
        arms=tuple(args.arms.split(",")),
        seeds=seeds,
        image_size=args.image_size,
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
        generator_options=generator_options,
        gen_epochs=length["gen_epochs"],
        gen_steps=length["gen_steps"],
        gen_batch_size=args.gen_batch_size or setup["gen_batch_size"],
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
    parser.add_argument(
        "--setup",
        choices=sorted(SETUPS),
        default="default",
        help="the GAN arm's generator: today's dcgan defaults or medaug 0.1.0's",
    )
    parser.add_argument(
        "--arms", default="baseline,gan,classic", help="comma-separated arms to run"
    )
    parser.add_argument(
        "--generator", default="dcgan", help="the gan arm's generator plugin (e.g. ddpm)"
    )
    parser.add_argument(
        "--gen-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="generator option on top of the setup's (JSON values), e.g. width=16",
    )
    parser.add_argument("--gen-batch-size", type=int, default=None, help="instead of the setup's")
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--gen-epochs", type=int, default=None, help="instead of the setup's")
    parser.add_argument("--gen-steps", type=int, default=None, help="instead of the setup's")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = build_config(args)
    started = time.perf_counter()
    with dist.session():  # under torchrun the seeds are shared out between the ranks
        results = run_experiment(
            cfg, log=lambda m: err_console.print(m, markup=False), progress=True
        )
        if not dist.is_main():
            return
    console.print(rich_table(results))
    for line in results["sentences"]:
        console.print(line)
    minutes = (time.perf_counter() - started) / 60
    console.print(f"{minutes:.1f} min this invocation; report: {args.out / 'report.md'}")


if __name__ == "__main__":
    main()
    if dist.launched():
        dist.exit_process(0)  # a Gloo rank can abort in interpreter shutdown otherwise
