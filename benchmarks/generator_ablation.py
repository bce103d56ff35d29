"""Ablation of the ``dcgan`` options on one real class, under the same time budget.

Trains medaug 0.1.0's DCGAN (``-O preset=paper``), every other preset (``compact``,
``small-data``) and the paper's DCGAN with each data-efficient option turned on alone
(``OPTION_TRIALS``), each for the same budget (checked between epochs), samples
``--samples`` images from each and audits them with :func:`medaug.auditing.audit_sets`
against the class's real images (``domain`` extractor, trained once on them and reused,
so every row is measured with the same features). Prints a JSON table: FID, KID,
precision, recall, density, coverage, C2ST AUC, flagged copies, steps, minutes.
``--clock cpu`` counts the process's CPU time instead of wall-clock time: on a machine
shared with other jobs that is the fair budget (with ``--threads 1``, minutes on one core).

With ``--subset N`` the generators learn from N randomly chosen images (a small class)
and are audited against all of the class's images; the copy screen compares with the N
they learned from. Each trained row's generator (``<name>.checkpoint.pt``) and samples
are saved in ``--out`` before its audit
(a rerun with the same settings reuses them), with a sample grid per configuration.

    python benchmarks/generator_ablation.py \\
        --real /work/shared/datasets/chestxray2017/train/NORMAL --minutes 10 --subset 100
    python benchmarks/generator_ablation.py --real DIR --configs paper,compact --minutes 2 \
        --clock cpu --threads 1 --row "paper+cutout:preset=paper;diffaugment=cutout"
    python benchmarks/generator_ablation.py --real DIR --image-size 32 --configs compact \
        --row "ddpm:generator=ddpm;width=16;attention_res=0"   # another generator, same budget
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from medaug.cli.options import parse_key_values


def configurations() -> dict[str, dict[str, Any]]:
    """``paper`` (medaug 0.1.0), every other preset, and ``paper+<option>`` for each
    data-efficient option turned on alone (its values from ``OPTION_TRIALS``)."""
    from medaug_dcgan.options import OPTION_TRIALS, PRESETS

    configs: dict[str, dict[str, Any]] = {"paper": {"preset": "paper"}}
    configs.update({name: {"preset": name} for name in PRESETS if name != "paper"})
    for name, values in OPTION_TRIALS.items():
        configs[f"paper+{name}"] = {"preset": "paper", **values}
    return configs


def load_class(folder: Path, image_size: int, cache_dir: Path | None) -> tuple[Any, Any]:
    """The images ``(N, 1, S, S)`` in [-1, 1] and patient ids of class folder ``folder``."""
    from medaug.data import DataOptions, load_dataset

    ds = load_dataset(
        folder.parent,
        image_size=image_size,
        channels=1,
        progress=False,
        options=DataOptions(cache_dir=cache_dir),
    )
    idx = ds.class_indices(folder.name)
    return ds.to_tensor(idx), [str(p) for p in ds.patients[idx]]


def save_grid(images: torch.Tensor, path: Path) -> None:
    """An 8-wide PNG grid of ``[-1, 1]`` images."""
    from torchvision.utils import save_image

    path.parent.mkdir(parents=True, exist_ok=True)
    save_image((images[:64] + 1) / 2, path, nrow=8)


def train(
    name: str,
    options: dict[str, Any],
    images: torch.Tensor,
    *,
    args: argparse.Namespace,
    device: torch.device,
) -> tuple[Any, dict[str, Any]]:
    """Train one configuration for the budget; return it and its training figures."""
    import medaug

    options = dict(options)
    name_of_generator = str(options.pop("generator", "dcgan"))
    gen = medaug.create_generator(
        name_of_generator, image_size=args.image_size, channels=1, device=device, **options
    )
    steps_per_epoch = len(images) // min(args.batch_size, len(images))
    budget = args.minutes * 60
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    t0, wall0 = clock(), time.perf_counter()
    epochs = 0
    paused = 0.0  # seconds spent drawing progress grids (not training)
    while clock() - t0 - paused < budget and (
        args.max_steps is None or epochs * steps_per_epoch < args.max_steps
    ):
        epochs += 1
        gen.fit(images, epochs=epochs, batch_size=args.batch_size, seed=args.seed)
        every = args.grid_every
        if (
            every
            and args.out
            and (epochs * steps_per_epoch) // every > ((epochs - 1) * steps_per_epoch) // every
        ):
            t_grid = clock()
            save_grid(
                gen.sample(64, seed=args.seed + 1),
                args.out / f"{name}_{epochs * steps_per_epoch:05d}.png",
            )
            paused += clock() - t_grid
    seconds = clock() - t0 - paused
    steps = epochs * steps_per_epoch
    return gen, {
        "generator": name_of_generator,
        "options": gen.options(),
        "epochs": epochs,
        "steps": steps,
        f"train_{args.clock}_minutes": round(seconds / 60, 2),
        "wall_minutes": round((time.perf_counter() - wall0) / 60, 2),
        f"{args.clock}_ms_per_step": round(1000 * seconds / max(1, steps), 1),
    }


def _save_checkpoint(gen: Any, figures: dict[str, Any], path: Path, args: Any) -> None:
    """The trained generator as a ``balance`` checkpoint (``medaug generate``,
    ``diffusion_benchmark.py steps`` read it)."""
    from medaug.generation.checkpoint import CheckpointInfo, save_checkpoint

    info = CheckpointInfo(
        generator=figures["generator"],
        generator_options=gen.options(),
        image_size=args.image_size,
        channels=1,
        class_name=args.real.name,
        class_names=[args.real.name],
        seed=args.seed,
        epochs=figures["epochs"],
        epochs_done=int(gen.epochs_done),
        batch_size=args.batch_size,
        complete=True,
        output_format="png",
        bit_depth=8,
        history={},
    )
    save_checkpoint(path, info, gen.state_dict(), digest=False)


def trained_row(
    name: str,
    options: dict[str, Any],
    images: torch.Tensor,
    *,
    args: argparse.Namespace,
    device: torch.device,
) -> tuple[torch.Tensor, dict[str, Any]]:
    """The row's synthetic images and training figures: trained now, or read back from
    ``OUT/<name>.trained.pt`` when an earlier run trained the same row (an interrupted
    ablation resumes without training again)."""
    key = {
        "options": options,
        **{k: getattr(args, k) for k in ("image_size", "minutes", "clock", "max_steps")},
        **{k: getattr(args, k) for k in ("subset", "batch_size", "seed", "samples")},
        "real": str(args.real),
    }
    path = args.out / f"{name}.trained.pt"
    if path.exists():
        saved = torch.load(path, weights_only=True)
        if saved["key"] == json.loads(json.dumps(key)):
            return saved["synthetic"], saved["figures"]
    gen, figures = train(name, options, images, args=args, device=device)
    _save_checkpoint(gen, figures, args.out / f"{name}.checkpoint.pt", args)
    synthetic = gen.sample(args.samples, seed=args.seed + 1)
    figures["load_avg"] = round(os.getloadavg()[0], 2)
    torch.save({"key": key, "figures": figures, "synthetic": synthetic}, path)
    return synthetic, figures


def _row(audit: Any, *, baseline: bool = False) -> dict[str, Any]:
    m = audit.baseline if baseline else audit.metrics
    row = {
        "fid": round(m.fid, 2),
        "fid_std": round(m.fid_std, 2),
        "kid": round(m.kid, 4),
        "precision": round(m.precision, 3),
        "recall": round(m.recall, 3),
        "density": round(m.density, 3),
        "coverage": round(m.coverage, 3),
        "c2st_auc": round(m.c2st_auc, 3),
    }
    if not baseline:
        row["flagged"] = len(audit.memorization.flagged)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", type=Path, required=True, help="a class folder ROOT/<class>")
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--minutes", type=float, default=10.0, help="training budget per row")
    parser.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="what the budget counts: wall-clock time, or this process's CPU time (fair "
        "on a machine shared with other jobs; with --threads 1 it is the time on one core)",
    )
    parser.add_argument("--max-steps", type=int, default=None, help="also stop after this")
    parser.add_argument("--subset", type=int, default=None, help="learn from N random images")
    parser.add_argument("--samples", type=int, default=1000, help="synthetic images audited")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--configs",
        default=None,
        help="comma-separated names (default: all; 'none': only the --row rows); --row "
        "rows come on top",
    )
    parser.add_argument(
        "--row",
        dest="option_row",
        action="append",
        default=[],
        metavar="NAME:KEY=VALUE;KEY=VALUE",
        help="an extra row with these options, e.g. 'paper+cutout:preset=paper;diffaugment=cutout'"
        " ('generator=ddpm' trains another generator plugin with the same budget and audit)",
    )
    parser.add_argument(
        "--all-option",
        "-A",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="options for every row, e.g. -A ngf=32 -A ndf=32 (JSON values)",
    )
    parser.add_argument("--grid-every", type=int, default=0, help="steps between grids")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--cache-dir", type=Path, default=None, help="decode/extractor cache")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("generator-ablation"),
        help="trained rows (reused by a rerun), sample grids and ablation.json",
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    from medaug.auditing import AuditSettings, ImageSet, audit_sets, prepare_extractor
    from medaug.runtime import resolve_device

    device = resolve_device(args.device)
    configs = configurations()
    if args.configs == "none":
        configs = {}
    elif args.configs:
        wanted = args.configs.split(",")
        unknown = sorted(set(wanted) - set(configs))
        if unknown:
            parser.error(f"unknown configs {unknown}; known: {', '.join(configs)}")
        configs = {k: configs[k] for k in wanted}
    for name in args.option_row:
        row, _, options = name.partition(":")
        configs[row] = parse_key_values(options.split(";")) if options else {}
    for name in configs:
        configs[name].update(parse_key_values(args.all_option))

    real, groups = load_class(args.real, args.image_size, args.cache_dir)
    train_images, train_groups = real, groups
    if args.subset:
        pick = np.sort(np.random.default_rng(args.seed).permutation(len(real))[: args.subset])
        train_images = real[torch.from_numpy(pick)]
        train_groups = [groups[i] for i in pick]
    settings = AuditSettings(seed=args.seed)
    t0 = time.perf_counter()
    extractor = prepare_extractor(real=real, seed=args.seed, cache_dir=args.cache_dir)
    result: dict[str, Any] = {
        "real": str(args.real),
        "n_real": len(real),
        "n_train": len(train_images),
        "image_size": args.image_size,
        "batch_size": args.batch_size,
        "minutes_per_config": args.minutes,
        "clock": args.clock,
        "samples": args.samples,
        "extractor": extractor.label,
        "extractor_minutes": round((time.perf_counter() - t0) / 60, 2),
        "device": str(device),
        "threads": torch.get_num_threads(),
        "cpu": platform.processor() or platform.machine(),
        "torch": torch.__version__,
        "load_avg_start": [round(x, 2) for x in os.getloadavg()],
        "rows": {},
    }
    args.out.mkdir(parents=True, exist_ok=True)
    for name, options in configs.items():
        synthetic, figures = trained_row(name, options, train_images, args=args, device=device)
        save_grid(synthetic, args.out / f"{name}.png")
        try:
            audit = audit_sets(
                ImageSet(real, groups=groups),
                synthetic,
                ImageSet(train_images, groups=train_groups),
                extractor=extractor,
                settings=settings,
                name=name,
            )
        except Exception as exc:  # keep the trained rows; the audit can be rerun
            row = {"audit_error": f"{type(exc).__name__}: {exc}", **figures}
        else:
            result.setdefault("real halves", _row(audit, baseline=True))
            row = {**_row(audit), **figures}
        result["rows"][name] = row
        print(json.dumps({name: row}), flush=True)
        (args.out / "ablation.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
