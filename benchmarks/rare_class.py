"""The rare-class benchmark: does medaug help when the minority class is really rare?

The minority class of ``--train`` is cut to N real images (N = 50, 100, 200, 400 and
all by default; the majority is untouched), and for each N one ``medaug experiment``
trains the same CNN on every arm, for 3 seeds, on a patient-grouped split of the cut
folder (validation for model selection only), and tests on ``--test``:

- ``baseline``: the cut training part as it is, inverse-frequency class weights;
- ``<arm>-sampler`` (``baseline-sampler``, ``gan-sampler``...): the arm with the balanced
  sampler instead (``--class-weights sampler``, medaug's default: no 31:1 loss weight at
  N = 100), in the experiment folder ``OUT/N<n>/sampler``;
- ``classic``: random oversampling + albumentations up to the majority;
- ``gan``: the dcgan defaults, trained on the training part's minority images, sampled
  up to the majority (``--max-synthetic-share none``); ``gan-manifold`` and
  ``gan-classifier``: the same generator (trained once per seed), curated by each filter
  (``--draws-per-image`` candidates per image);
- with ``--share-caps 0.5`` (the default; ``""`` for none): the gan arms again with the
  generated share of the minority capped (``--max-synthetic-share``, whose default 0.5
  this benchmark chose), named ``<arm>@cap0.5``, in their own experiment folder
  ``OUT/N<n>/cap0.5`` (``cap0.5-sampler`` for the sampler arms). medaug's default gan
  arm is ``gan-sampler@cap0.5``; its classic arm, ``classic``. (Before the cap became
  the default it capped the classic arm too: ``classic@cap0.5`` was measured so.)

Every experiment folder of one N trains on the same cut with the same seeds and generator
settings, so a seed's generator checkpoint is trained once and linked into the others.

The minority images kept at each N are the first N of one patient-shuffled order (seed
0), so each N's images include the smaller N's. Each cut is a folder of symlinks under
``OUT/data/N<n>``; the experiments go to ``OUT/N<n>/main`` (and the folders above),
are resumable, and are reused by a rerun. The end: ``OUT/rare_class.json`` (every figure),
``OUT/rare_class.md`` (the table) and ``OUT/rare_class.png`` (balanced accuracy and
specificity against N, one line per arm, 95% t intervals over seeds). Full run::

    python benchmarks/dev_split.py ../shared/datasets/chestxray2017/train --out /tmp/dev
    python benchmarks/rare_class.py --train /tmp/dev/train --test /tmp/dev/test \\
        --out bench-rare/

Several processes can share one ``--out`` with different ``--sizes``; ``--report-only``
then gathers what has finished. Never tune on the test folder: use the development split.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from medaug.balancing.config import DEFAULT_BATCH_SIZE, DEFAULT_STEPS
from medaug.cli.options import parse_key_values
from medaug.console import err_console
from medaug.curation.policy import DEFAULT_DRAWS, CurationPolicy
from medaug.data.scan import scan_dataset
from medaug.errors import MedaugError
from medaug.experiments import ExperimentConfig, run_experiment
from medaug.experiments.config import GAN_ARMS
from medaug.experiments.stats import compare, summarize, t_half_width
from medaug.output import OutputFolder, claim_output
from medaug.training import TrainConfig

DEFAULT_SIZES = "50,100,200,400,all"
DEFAULT_ARMS = "baseline,baseline-sampler,classic,gan,gan-manifold,gan-classifier,gan-sampler"
#: an arm name ending in this runs the experiment arm before it with the balanced sampler
SAMPLER = "-sampler"
METRICS = ("balanced_accuracy", "specificity", "recall", "accuracy", "roc_auc")


def minority_order(train: Path, minority: str | None) -> tuple[str, list[Path], dict[str, int]]:
    """The minority class (default: the smallest), its files in one patient-shuffled
    order (seed 0), and the class counts of ``train``."""
    scan = scan_dataset(train)
    counts: dict[str, int] = {}
    for r in scan.records:
        counts[r.label] = counts.get(r.label, 0) + 1
    name = minority or min(counts, key=lambda c: counts[c])
    if name not in counts:
        raise SystemExit(f"--minority {name!r} is not a class of {train} ({', '.join(counts)})")
    by_patient: dict[str, list[Path]] = {}
    for r in scan.records:
        if r.label == name:
            by_patient.setdefault(str(r.patient_id), []).append(Path(r.path))
    patients = sorted(by_patient)
    order = np.random.default_rng(0).permutation(len(patients))
    files = [f for i in order for f in sorted(by_patient[patients[i]])]
    return name, files, counts


def make_cut(train: Path, dest: Path, minority: str, files: list[Path]) -> Path:
    """``dest/<class>/``: symlinks to every majority image and to ``files`` (the
    minority's kept images); made once (a rerun reuses it)."""
    if dest.is_dir():
        return dest
    tmp = dest.with_name(dest.name + ".part")
    for cls_dir in sorted(p for p in train.iterdir() if p.is_dir()):
        chosen = files if cls_dir.name == minority else sorted(cls_dir.iterdir())
        (tmp / cls_dir.name).mkdir(parents=True, exist_ok=True)
        for src in chosen:
            (tmp / cls_dir.name / src.name).symlink_to(src.resolve())
    tmp.rename(dest)
    return dest


def experiment_config(args: argparse.Namespace, train: Path, out: Path, arms: tuple[str, ...],
                      class_weights: str, cap: float | None) -> ExperimentConfig:  # fmt: skip
    """The paper benchmark's classifier settings; the generator's defaults."""
    epochs = args.epochs
    return ExperimentConfig(
        train=train,
        test=args.test,
        out=out,
        classifier="simple-cnn",
        generator=args.generator,
        arms=arms,
        seeds=args.seeds,
        image_size=args.image_size,
        channels=1,
        strategy="minority",  # the minority filled up to the majority
        max_synthetic_share=cap,
        val_fraction=0.2,
        curation=CurationPolicy(draws_per_image=args.draws_per_image),
        train_config=TrainConfig(
            epochs=epochs,
            batch_size=64,
            class_weights=class_weights,
            monitor="balanced_accuracy",
            patience=max(4, epochs // 3),
        ),
        augment="strong",
        generator_options=parse_key_values(args.gen_option, "--gen-option"),
        gen_steps=args.gen_steps,
        gen_batch_size=DEFAULT_BATCH_SIZE,
        device=args.device,
    )


def _names(text: str) -> list[str]:
    """``"a, b,"`` -> ``["a", "b"]``: a comma-separated option's items."""
    return [item.strip() for item in text.split(",") if item.strip()]


def split_arm(arm: str) -> tuple[str, str]:
    """``"gan-sampler"`` -> ``("gan", "sampler")``; ``"gan"`` -> ``("gan", "balanced")``."""
    if arm.endswith(SAMPLER):
        return arm.removesuffix(SAMPLER), "sampler"
    return arm, "balanced"


def groups(args: argparse.Namespace) -> list[tuple[tuple[str, ...], str, str, float | None]]:
    """The experiments of one N: ``(experiment arms, class weights, folder, share cap)``."""
    by_weights: dict[str, list[str]] = {"balanced": [], "sampler": []}
    for arm in _names(args.arms):
        exp_arm, weights = split_arm(arm)
        by_weights[weights].append(exp_arm)
    out: list[tuple[tuple[str, ...], str, str, float | None]] = []
    for weights, arms in by_weights.items():
        suffix = "" if weights == "balanced" else SAMPLER
        if arms and not args.only_caps:
            out.append((tuple(arms), weights, "main" if not suffix else "sampler", None))
        capped = tuple(a for a in arms if a in GAN_ARMS)  # the cap is for generated images
        for cap in _caps(args) if capped else []:
            out.append((capped, weights, f"cap{cap}{suffix}", cap))
    return out


#: the experiment settings a seed's generator depends on (the rest: what is done with it)
GENERATOR_SETTINGS = (
    *("train", "image_size", "channels", "val_fraction", "base_seed", "data_options"),
    *("generator", "generator_options", "gen_epochs", "gen_steps", "gen_batch_size"),
    *("gen_checkpoint_every", "min_class_images"),
)


def link_generators(cfg: ExperimentConfig, out: OutputFolder) -> None:
    """Link into ``out`` the generator checkpoints that another experiment folder of the
    same N already has, when it trained them with the same settings: then they are the
    same generators (the cap and the class weights change only what is done with them)."""
    ours = {k: v for k, v in cfg.to_dict().items() if k in GENERATOR_SETTINGS}
    for other in sorted(out.root.parent.glob("*/experiment.json")):
        settings = json.loads(other.read_text())["settings"]
        if other.parent == out.root or any(settings.get(k) != v for k, v in ours.items()):
            continue
        for source in sorted(other.parent.glob("generators/seed*/*.pt")):
            dest = out.root / "generators" / source.parent.name / source.name
            if not dest.exists():
                out.admit(dest)  # medaug's own entry, as if the experiment had written it
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.link(source, dest)


def run_size(args: argparse.Namespace, n: str, files: list[Path], minority: str) -> None:
    """Every requested arm at minority size ``n``."""
    kept = files if n == "all" else files[: int(n)]
    cut = make_cut(args.train, args.out / "data" / f"N{n}", minority, kept)
    for exp_arms, weights, folder, share in groups(args):
        cfg = experiment_config(args, cut, args.out / f"N{n}" / folder, exp_arms, weights, share)
        err_console.print(f"N = {n} ({len(kept)} {minority}): {folder} {','.join(exp_arms)}")
        with claim_output(cfg.out, command="experiment", inputs=[cut, args.test]) as out:
            link_generators(cfg, out)
            run_experiment(cfg, log=lambda m: err_console.print(f"  N{n} {m}", markup=False))


def _rank(arm: str) -> tuple[str, bool, int]:
    """Report order: uncapped arms first, then by weighting, each in :data:`DEFAULT_ARMS`
    order."""
    order = DEFAULT_ARMS.split(",")
    plain, _, cap = arm.partition("@")
    base, weights = split_arm(plain)
    return cap, weights == "sampler", order.index(base) if base in order else len(order)


def _caps(args: argparse.Namespace) -> list[float]:
    return [float(c) for c in _names(args.share_caps)]


def _runs(folder: Path) -> list[dict[str, Any]]:
    """The finished runs of one experiment folder (``main``, ``sampler``, ``cap0.5``,
    ``cap0.5-sampler``...), arms named as the benchmark names them."""
    cap, _, weights = folder.name.partition("-")
    suffix = SAMPLER if weights or cap == "sampler" else ""
    at = f"@{cap}" if cap.startswith("cap") else ""
    runs = []
    for path in sorted(folder.glob("runs/seed*/*/result.json")):
        run = json.loads(path.read_text())
        runs.append({**run, "arm": f"{run['arm']}{suffix}{at}"})
    return runs


def _baseline_of(arm: str) -> str:
    """The baseline an arm is compared with: the one with its class weights (the sampler
    baseline with the weighted one)."""
    base, weights = split_arm(arm.partition("@")[0])
    return "baseline" + (SAMPLER if weights == "sampler" and base != "baseline" else "")


def gather(out: Path) -> dict[str, Any]:
    """Every finished run under ``out``: per N, each arm's mean, std and 95% interval
    of each metric, and the paired differences that the goals are about."""
    sizes: dict[str, Any] = {}
    folders = sorted(out.glob("N*/"), key=lambda p: (p.name == "Nall", p.name[1:].zfill(8)))
    for size_dir in folders:
        runs = []
        for folder in sorted(size_dir.glob("*/")):
            runs += _runs(folder)
        if not runs:
            continue
        runs.sort(key=lambda r: (_rank(r["arm"]), r["seed"]))
        summary = summarize(runs, list(METRICS))
        vs_classic = compare(runs, list(METRICS), baseline="classic")
        vs_baseline = {  # each arm against the baseline with its own class weights
            arm: diff
            for baseline in ("baseline", "baseline" + SAMPLER)
            for arm, diff in compare(runs, list(METRICS), baseline=baseline).items()
            if _baseline_of(arm) == baseline
        }
        sizes[size_dir.name[1:]] = {
            "minority_real": runs[0]["train_counts"],
            "arms": summary,
            "vs_classic": {a: d for a, d in vs_classic.items() if a.startswith("gan")},
            "vs_baseline": vs_baseline,
            "audits": {
                f"{r['arm']}/seed{r['seed']}": {
                    cls: {k: a.get(k) for k in ("precision", "recall", "coverage", "fid")}
                    for cls, a in r["audit"].get("classes", {}).items()
                }
                for r in runs
                if r.get("audit")
            },
            "curation": {
                f"{r['arm']}/seed{r['seed']}": r["curation"] for r in runs if r.get("curation")
            },
            "seconds": round(sum(r.get("seconds", 0.0) for r in runs), 1),
        }
    return {"sizes": sizes}


def _cell(stats: dict[str, Any]) -> str:
    if stats.get("mean") is None:
        return "n/a"
    text = f"{100 * stats['mean']:.1f}"
    return text + (f" ± {100 * stats['std']:.1f}" if stats["n"] > 1 else "") + f" (n={stats['n']})"


def _diff(d: dict[str, Any]) -> str:
    if d.get("mean") is None:
        return "n/a"
    if d.get("ci_low") is None:
        return f"{100 * d['mean']:+.1f} (one seed)"
    return f"{100 * d['mean']:+.1f} [{100 * d['ci_low']:+.1f}, {100 * d['ci_high']:+.1f}]"


def table(data: dict[str, Any]) -> str:
    """Markdown: balanced accuracy and specificity per N and arm, the gan arms against
    classic oversampling and the baseline."""
    lines = [
        "| N | arm | balanced accuracy % | specificity % | recall % | vs classic (bal. acc., "
        "points, 95% CI) | vs baseline |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for n, size in data["sizes"].items():
        for arm, stats in size["arms"].items():
            vc = size["vs_classic"].get(arm, {}).get("balanced_accuracy", {})
            vb = size["vs_baseline"].get(arm, {}).get("balanced_accuracy", {})
            lines.append(
                f"| {n} | {arm} | {_cell(stats['balanced_accuracy'])} | "
                f"{_cell(stats['specificity'])} | {_cell(stats['recall'])} | "
                f"{_diff(vc) if vc else ''} | {_diff(vb) if vb else ''} |"
            )
    return "\n".join(lines) + "\n"


def figure(data: dict[str, Any], path: Path, only: str = "") -> Path:
    """Balanced accuracy and specificity against N, one line per arm (those ``only``
    lists, comma-separated; default all), 95% t intervals."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = list(data["sizes"])
    xs = {n: (int(n) if n != "all" else None) for n in sizes}
    top = max([x for x in xs.values() if x is not None] or [1])
    xs = {n: (x if x is not None else 2 * top) for n, x in xs.items()}
    arms = sorted({a for s in data["sizes"].values() for a in s["arms"]})
    wanted = _names(only)
    arms = [a for a in wanted if a in arms] if wanted else arms
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, metric in zip(axes, ("balanced_accuracy", "specificity"), strict=True):
        bottom = 100.0
        for i, arm in enumerate(arms):
            pts = [
                (xs[n], s["arms"][arm][metric])
                for n, s in data["sizes"].items()
                if arm in s["arms"] and s["arms"][arm][metric]["mean"] is not None
            ]
            if not pts:
                continue
            x = np.array([p[0] for p in pts], dtype=float) * (1 + 0.02 * (i - len(arms) / 2))
            y = np.array([100 * p[1]["mean"] for p in pts])
            half = np.array([100 * t_half_width(p[1]["std"], p[1]["n"]) for p in pts])
            low, high = np.clip(y - half, 0, 100), np.clip(y + half, 0, 100)  # a % stays a %
            style = "--" if "@" in arm else "-"  # capped arms dashed
            ax.errorbar(x, y, yerr=[y - low, high - y], marker="o", capsize=3, ls=style, label=arm)
            bottom = min(bottom, float(low.min()))
        ax.set_xscale("log")
        ax.minorticks_off()
        ax.set_xticks(list(xs.values()), list(xs))
        ax.set_ylim(max(0.0, bottom - 2), 101)
        ax.set_xlabel("real minority images N (before the validation split)")
        ax.set_ylabel(f"test {metric.replace('_', ' ')} (%)")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle("Rare-class benchmark: mean over seeds, 95% t interval (clipped to 0-100)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=Path, required=True, help="a ROOT/<class>/ train folder")
    parser.add_argument("--test", type=Path, required=True, help="a separate test folder")
    parser.add_argument("--out", type=Path, default=Path("bench-rare"))
    parser.add_argument("--minority", default=None, help="the class to cut (default: smallest)")
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help="minority sizes N, or 'all'")
    parser.add_argument("--arms", default=DEFAULT_ARMS, help="comma-separated arms")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=20, help="classifier epochs")
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--generator", default="dcgan")
    parser.add_argument("--gen-option", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--gen-steps", type=int, default=DEFAULT_STEPS)
    parser.add_argument("--draws-per-image", type=int, default=DEFAULT_DRAWS)
    parser.add_argument(
        "--share-caps",
        default="0.5",
        metavar="FRACTION,...",
        help="also run the gan arms with each --max-synthetic-share (arm@capF)",
    )
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument(
        "--only-caps", action="store_true", help="run only the --share-caps experiments"
    )
    parser.add_argument("--report-only", action="store_true", help="gather finished runs only")
    parser.add_argument("--figure-arms", default="", help="the arms the figure shows (all)")
    args = parser.parse_args(argv)
    try:
        run(args)
    except MedaugError as err:  # bad input: one line and a non-zero exit, no traceback
        raise SystemExit(f"error: {err}") from None


def run(args: argparse.Namespace) -> None:
    """Run the requested sizes (unless ``--report-only``), then write the report."""
    if args.threads:
        torch.set_num_threads(args.threads)
    started = time.perf_counter()
    if not args.report_only:
        minority, files, counts = minority_order(args.train, args.minority)
        err_console.print(f"{args.train}: {counts}; cutting {minority}")
        for n in _names(args.sizes):
            run_size(args, n, files, minority)
    data = gather(args.out)
    data["minutes_this_invocation"] = round((time.perf_counter() - started) / 60, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "rare_class.json").write_text(json.dumps(data, indent=2) + "\n")
    (args.out / "rare_class.md").write_text(table(data))
    if data["sizes"]:
        figure(data, args.out / "rare_class.png", args.figure_arms)
    print(json.dumps({n: {a: s["balanced_accuracy"]["mean"] for a, s in size["arms"].items()}
                      for n, size in data["sizes"].items()}))  # fmt: skip


if __name__ == "__main__":
    main()
