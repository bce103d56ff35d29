"""``medaug experiment``: does synthetic data help, and by how much beyond noise?"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from medaug.balancing.config import DEFAULT_CHECKPOINT_EVERY, DEFAULT_STEPS, MIN_CLASS_IMAGES
from medaug.cli.options import (
    apply_threads,
    curation_options,
    dataset_options,
    device_option,
    json_option,
    max_share_option,
    parse_key_values,
    pop_curation,
    pop_data_options,
    threads_option,
    train_config,
    training_options,
)
from medaug.console import console, err_console, print_json
from medaug.limits import MAX_BATCH_SIZE, MAX_IMAGES_PER_CLASS


@click.command("experiment")
@click.option(
    "--train",
    "train_dir",
    type=click.Path(path_type=Path),
    required=True,
    help="Training folder (one folder per class, or DICOM files with --labels or "
    "--label-tag); validation is split from it.",
)
@click.option(
    "--test",
    "test_dir",
    type=click.Path(path_type=Path),
    required=True,
    help="Test folder, read like --train: used only for the final numbers.",
)
@click.option("--generator", default=None, metavar="NAME", help="Generator plugin (gan arm).")
@training_options
@dataset_options
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Results folder.")
@click.option(
    "--arms",
    default="baseline,gan,classic",
    show_default=True,
    help="Comma-separated arms to run: baseline, gan, classic, and gan-manifold, "
    "gan-classifier (the gan arm's generator, curated by that filter).",
)
@click.option(
    "--seeds",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="Independent runs per arm (seeds SEED, SEED+1, ...).",
)
@click.option(
    "--seed", type=click.IntRange(min=0), default=0, show_default=True, help="First seed."
)
@click.option(
    "--synthetic",
    type=click.IntRange(1, MAX_IMAGES_PER_CLASS),
    default=None,
    metavar="N",
    help="Add N images to each class selected by --strategy (paper: 400).",
)
@max_share_option
@curation_options
@click.option(
    "--strategy",
    default=None,
    metavar="STRATEGY",
    help="Which classes get images (imbalanced-learn meanings; default auto = all "
    "but the majority, filled up to it unless --synthetic).",
)
@click.option(
    "--classic-augment",
    default="standard",
    show_default=True,
    metavar="PIPELINE",
    help="albumentations pipeline for the classic arm's oversampled copies.",
)
@click.option(
    "--gen-epochs",
    type=click.IntRange(min=1),
    default=None,
    help="Generator training length in epochs, instead of --gen-steps.",
)
@click.option(
    "--gen-steps",
    type=click.IntRange(min=1),
    default=None,
    help=f"Generator training length in optimisation steps [default: {DEFAULT_STEPS}, "
    "8 per image for a class under 188 images, as in balance]; overrides --gen-epochs.",
)
@click.option(
    "--audit/--no-audit",
    default=True,
    show_default=True,
    help="Audit each seed's synthetic images (FID, precision/recall, copies...), "
    "recorded next to the accuracy figures.",
)
@click.option(
    "--audit-option",
    "audit_options",
    multiple=True,
    metavar="KEY=VALUE",
    help="Option of the audit's domain extractor (repeatable), e.g. steps=200.",
)
@click.option(
    "--gen-batch-size", type=click.IntRange(2, MAX_BATCH_SIZE), default=64, show_default=True
)
@click.option(
    "--gen-checkpoint-every",
    type=click.IntRange(min=1),
    default=None,
    help=f"Steps between generator checkpoints [default: {DEFAULT_CHECKPOINT_EVERY}, as in "
    "balance]; with --gen-epochs, every epoch.",
)
@click.option(
    "--min-class-images",
    type=click.IntRange(min=1),
    default=MIN_CLASS_IMAGES,
    show_default=True,
    help="Refuse to train a generator on a class with fewer images (as in balance).",
)
@click.option(
    "--gen-option",
    "gen_options",
    multiple=True,
    metavar="KEY=VALUE",
    help="Option for the generator plugin (repeatable).",
)
@device_option
@threads_option
@json_option
def command(
    train_dir: Path,
    test_dir: Path,
    generator: str | None,
    out: Path,
    arms: str,
    seeds: int,
    seed: int,
    synthetic: int | None,
    strategy: str | None,
    classic_augment: str,
    gen_epochs: int | None,
    gen_steps: int | None,
    audit: bool,
    audit_options: tuple[str, ...],
    gen_batch_size: int,
    gen_checkpoint_every: int | None,
    min_class_images: int,
    gen_options: tuple[str, ...],
    device: str,
    threads: int,
    as_json: bool,
    **kw: Any,
) -> None:
    """Train the same classifier on the baseline, GAN-balanced and classically oversampled
    training sets, for several seeds, and compare them on the test folder.

    Per seed the generator is trained once (on the training part only; per class, or
    one conditional model), checkpointed as it goes; finished runs and generators
    are kept, so an interrupted experiment resumes where it stopped, even mid-generator.
    Reports seed-level t intervals (training noise) and a paired bootstrap over test
    images with McNemar's test per seed (test-set noise). Writes OUT/results.json,
    OUT/report.md and figures.

    \b
    Examples:
      medaug experiment --train chest/train --test chest/test --generator dcgan \\
                        --classifier simple-cnn --synthetic 400 --out results/
      medaug experiment --train A --test B --generator dcgan --classifier simple-cnn \\
                        --seeds 2 --epochs 1 --image-size 32 --out OUT --json
    """
    from medaug.data import parse_channels
    from medaug.experiments import ExperimentConfig, run_experiment
    from medaug.experiments.report import rich_summary

    channels = parse_channels(kw["channels"]) or "auto"
    curation = pop_curation(kw)
    cfg = ExperimentConfig(
        train=train_dir,
        test=test_dir,
        out=out,
        classifier=kw["classifier"],
        generator=generator,
        arms=tuple(a.strip() for a in arms.split(",") if a.strip()),
        seeds=seeds,
        base_seed=seed,
        image_size=kw["image_size"],
        channels=channels,
        synthetic=synthetic,
        max_synthetic_share=kw["max_synthetic_share"],
        curation=curation,
        strategy=strategy,
        val_fraction=kw["val_split"],
        train_config=train_config(**kw, seed=seed),
        augment=kw["augment"],
        classic_augment=classic_augment,
        classifier_options=parse_key_values(kw["classifier_options"], "--classifier-option"),
        pretrained=kw["pretrained"],
        generator_options=parse_key_values(gen_options, "--gen-option"),
        gen_epochs=gen_epochs,
        gen_steps=gen_steps,
        audit=audit,
        audit_options=parse_key_values(audit_options, "--audit-option"),
        gen_batch_size=gen_batch_size,
        gen_checkpoint_every=gen_checkpoint_every,
        min_class_images=min_class_images,
        positive_class=kw["positive_class"],
        device=device,
        options=apply_threads(threads, pop_data_options(kw)),
    )
    results = run_experiment(
        cfg, log=lambda m: err_console.print(m, markup=False), progress=not as_json
    )
    if as_json:
        print_json(results)
        return
    console.print(rich_summary(results))
    console.print(f"written: {Path(out) / 'results.json'}, {Path(out) / 'report.md'}")
