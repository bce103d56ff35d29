"""``report.md`` (the paper's Table II layout plus the extra metrics) and the rich table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from medaug.atomic import atomic_write_text
from medaug.experiments.testset import format_p_value, test_set_sentences
from medaug.training.metrics import METRIC_NAMES

ARM_LABELS = {
    "baseline": "Original (imbalanced) train set",
    "gan": "GAN-balanced train set",
    "classic": "Oversampled + augmented train set",
}
HEADERS = {
    "accuracy": "Accuracy",
    "precision": "Precision",
    "recall": "Recall",
    "specificity": "Specificity",
    "f1": "F1",
    "balanced_accuracy": "Balanced acc.",
    "roc_auc": "ROC-AUC",
}


def fmt(stat: dict[str, Any] | None, *, percent: bool = False) -> str:
    """``mean ± std`` (accuracy in percent as in the paper, other metrics as fractions)."""
    if not stat or stat.get("mean") is None:
        return "n/a"
    scale = 100.0 if percent else 1.0
    digits = 1 if percent else 3
    return f"{stat['mean'] * scale:.{digits}f} ± {stat['std'] * scale:.{digits}f}"


def fmt_value(value: float | None, digits: int = 3) -> str:
    """A metric value, or ``n/a`` when it is undefined (``None``)."""
    return "n/a" if value is None else f"{value:.{digits}f}"


def _diff(d: dict[str, Any], metric: str) -> str:
    if d.get("mean") is None:
        return "n/a"
    text = f"{100 * d['mean']:+.1f} ± {100 * d['std']:.1f}"
    if d.get("ci_low") is not None:
        text += f" [{100 * d['ci_low']:+.1f}, {100 * d['ci_high']:+.1f}]"
    return text


TEST_SET_TITLE = "Test-set uncertainty (paired bootstrap over test images; McNemar per seed)"
TEST_SET_EXPLANATION = (
    "The t interval above measures training noise: how much the difference moves from seed "
    "to seed. The bootstrap below keeps every trained model fixed and resamples the test "
    "images (the same images for every arm and seed, seeds averaged): it measures test-set "
    "sampling noise only. McNemar's exact test compares each arm with the baseline of the "
    "same seed image by image (b: images only the baseline gets right, c: images only the "
    "arm gets right)."
)


def _boot_cell(b: dict[str, Any] | None) -> str:
    if not b or b.get("mean") is None:
        return "n/a"
    text = f"{100 * b['mean']:+.1f}"
    if b.get("ci_low") is not None:
        text += f" [{100 * b['ci_low']:+.1f}, {100 * b['ci_high']:+.1f}]"
    return text


def uncertainty_section(results: dict[str, Any]) -> list[str]:
    """The report's test-set uncertainty section (no lines for results without it)."""
    test_set = results.get("test_set")
    if not test_set:
        return []
    first = next(iter(test_set.values()))["bootstrap"]
    info = next((b for b in first.values() if b.get("n_images")), None)
    conf = round(100 * float(info["confidence"])) if info else 95
    metrics = [m for m in METRIC_NAMES if m in first]
    lines = [
        f"## {TEST_SET_TITLE}",
        "",
        TEST_SET_EXPLANATION,
        "",
        (
            f"Points; difference on the whole test set [{conf}% percentile interval of "
            f"{info['n_boot']} draws of its {info['n_images']} images]."
            if info
            else "No run kept per-image predictions (results of an older medaug)."
        ),
        "",
        "| Arm | " + " | ".join(HEADERS[m] for m in metrics) + " |",
        "|---|" + "---:|" * len(metrics),
    ]
    for arm, entry in test_set.items():
        cells = [_boot_cell(entry["bootstrap"].get(m)) for m in metrics]
        lines.append(f"| {arm} | " + " | ".join(cells) + " |")
    lines += ["", "| Arm | Seed | b (baseline only right) | c (arm only right) | McNemar p |"]
    lines.append("|---|---:|---:|---:|---:|")
    for arm, entry in test_set.items():
        for seed, t in sorted(entry.get("mcnemar", {}).items(), key=lambda kv: int(kv[0])):
            b = "n/a" if t.get("b") is None else t["b"]
            c = "n/a" if t.get("c") is None else t["c"]
            lines.append(f"| {arm} | {seed} | {b} | {c} | {format_p_value(t.get('p_value'))} |")
    reasons = {
        (HEADERS.get(m, m), b["reason"])
        for entry in test_set.values()
        for m, b in entry["bootstrap"].items()
        if b.get("reason")
    }
    lines += ["", *[f"- {t}" for t in test_set_sentences(test_set)]]
    lines += [f"- {h} n/a: {why}" for h, why in sorted(reasons)]
    return [*lines, ""]


def _gen_length(settings: dict[str, Any]) -> str:
    """``"1500 steps"`` or ``"25 epochs"``: how long each generator trained."""
    from medaug.balancing.config import DEFAULT_STEPS, training_steps

    epochs = settings.get("gen_epochs")
    steps = training_steps(settings.get("gen_steps"), epochs, DEFAULT_STEPS)
    return f"{steps} steps" if steps is not None else f"{epochs} epochs"


def markdown(results: dict[str, Any]) -> str:
    """The whole report as Markdown."""
    s = results["settings"]
    summary, comps = results["summary"], results["comparisons"]
    seeds = max((v["accuracy"]["n"] for v in summary.values()), default=0)
    pos = results.get("positive_class")
    lines = [
        "# medaug experiment report",
        "",
        f"Classifier `{s['classifier']}`, generator `{s['generator']}`, "
        f"{s['image_size']} px, {seeds} seed(s) per arm, test folder `{s['test']}`.",
        f"Positive class for precision/recall: **{pos}**."
        if pos
        else "Macro averages (multi-class).",
        "",
        *([f"**Verdict:** {results['verdict']}", ""] if results.get("verdict") else []),
        "## Table II: classifier performance on the test folder (mean ± std over seeds)",
        "",
        "| Training set | Images | " + " | ".join(HEADERS[m] for m in METRIC_NAMES) + " |",
        "|---|---:|" + "---:|" * len(METRIC_NAMES),
    ]
    n_train = {r["arm"]: r["n_train"] for r in results["runs"]}
    for arm, stats in summary.items():
        cells = [fmt(stats.get(m), percent=(m == "accuracy")) for m in METRIC_NAMES]
        lines.append(
            f"| {ARM_LABELS.get(arm, arm)} (`{arm}`) | {n_train.get(arm, '')} | "
            + " | ".join(cells)
            + " |"
        )
    lines += ["", "Accuracy in %, other metrics as fractions.", ""]
    if comps:
        lines += [
            "## Paired differences vs baseline (points; mean ± std [95% t interval])",
            "",
            "| Arm | " + " | ".join(HEADERS[m] for m in METRIC_NAMES) + " |",
            "|---|" + "---:|" * len(METRIC_NAMES),
        ]
        for arm, per in comps.items():
            lines.append(f"| {arm} | " + " | ".join(_diff(per[m], m) for m in METRIC_NAMES) + " |")
        lines += ["", *[f"- {t}" for t in results["sentences"]], ""]
    lines += uncertainty_section(results)
    lines += curation_section(results)
    lines += audit_section(results)
    if results.get("warnings"):
        lines += ["## Warnings", "", *[f"- {w}" for w in results["warnings"]], ""]
    lines += [
        "## Per run",
        "",
        "| Arm | Seed | Train images | Best epoch | Threshold | Accuracy | Precision | Recall | "
        "Specificity | Confusion matrix |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results["runs"]:
        t = r["test"]
        lines.append(
            f"| {r['arm']} | {r['seed']} | {r['n_train']} | {r['best_epoch']} | "
            f"{r['threshold']:.3f} | {100 * t['accuracy']:.1f} | {fmt_value(t['precision'])} | "
            f"{fmt_value(t['recall'])} | {fmt_value(t['specificity'])} | {t['confusion_matrix']} |"
        )
    tc = s["train_config"]
    added = s["synthetic"] or f"strategy {s['strategy'] or 'auto'}"
    if s.get("max_synthetic_share") is not None:
        share = s["max_synthetic_share"]
        added = f"{added} (the gan arms' share of a class capped at {share})"
    if s.get("curation", {}).get("filter", "none") != "none":
        policy = ", ".join(f"{k} {v}" for k, v in s["curation"].items())
        added = f"{added} (the gan arm curated: {policy})"
    versions = ", ".join(f"{k} {v}" for k, v in results["versions"].items() if isinstance(v, str))
    lines += [
        "",
        "## Settings",
        "",
        f"- data: train {results['data']['train']}, test {results['data']['test']}, "
        f"{results['data']['channels']} channel(s)",
        f"- classifier: epochs {tc['epochs']}, batch {tc['batch_size']}, lr {tc['lr']}, "
        f"class weights {tc['class_weights']}, "
        f"synthetic weight {tc.get('synthetic_weight', 1.0)}, monitor {tc['monitor']} (patience "
        f"{tc['patience']}), threshold {tc['threshold']}, augment `{s['augment']}`",
        f"- synthetic: {added} per selected class; generator {_gen_length(s)}, "
        f"options {s['generator_options']}",
        f"- classic arm pipeline: `{s['classic_augment']}`; validation: patient-grouped "
        f"{s['val_fraction']:.0%} of the train folder (model selection + threshold only)",
        f"- versions: {versions}",
        "",
        "Figures: `metrics_by_arm.png`; per run `runs/seed<S>/<arm>/curves.png`, "
        "`test_roc.png`, `test_confusion.png`; generator samples `generators/seed<S>/*.png`.",
        "",
    ]
    return "\n".join(lines)


def curation_section(results: dict[str, Any]) -> list[str]:
    """What each curated gan arm's filter kept of its candidates, per seed (none without
    a filter)."""
    runs = [r for r in results["runs"] if r.get("curation")]
    if not runs:
        return []
    lines = [
        "## Curation of the synthetic images (per seed)",
        "",
        "Candidates drawn in the generator's stream order; the accepted ones kept until "
        "the class has enough (fewer kept than wanted: the generator's images fall off "
        "the real images' manifold).",
        "",
        "| Arm | Seed | Class | Filter | Wanted | Drawn | Accepted | Acceptance | Kept |",
        "|---|---:|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        for cls, c in r["curation"].items():
            lines.append(
                f"| {r['arm']} | {r['seed']} | {cls} | {c['filter']} | {c['asked']} | "
                f"{c['drawn']} | {c['accepted']} | {c['acceptance_rate']:.0%} | {c['kept']} |"
            )
    return [*lines, ""]


def audit_section(results: dict[str, Any]) -> list[str]:
    """The audit of each gan arm's synthetic images per seed (``medaug audit``), next to
    the accuracy."""
    runs = [r for r in results["runs"] if r.get("audit")]
    if not runs:
        return []
    lines = [
        "## Audit of the synthetic images (per seed)",
        "",
        "Against the training part's real images of the class; real-vs-real in brackets "
        "(docs/audit.md explains the figures).",
        "",
        "| Arm | Seed | Class | FID | Precision | Recall | Coverage | C2ST AUC | Flagged copies "
        "| Verdict |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in runs:
        for cls, a in r["audit"].get("classes", {}).items():
            head = f"| {r['arm']} | {r['seed']} | {cls}"
            if "skipped" in a:
                lines.append(f"{head} | {a['skipped']} | | | | | | |")
                continue
            b = a["baseline"]
            cells = [
                f"{fmt_value(a[m], 2)} ({fmt_value(b[m], 2)})"
                for m in ("fid", "precision", "recall", "coverage", "c2st_auc")
            ]
            flagged = len(a["memorization"]["flagged"])
            lines.append(f"{head} | {' | '.join(cells)} | {flagged} | {a['verdict']['summary']} |")
    return [*lines, ""]


def write_report(results: dict[str, Any], path: Path) -> Path:
    """Write ``report.md`` (atomically)."""
    atomic_write_text(path, markdown(results))
    return path


def rich_table(results: dict[str, Any]) -> Table:
    """Table II for the terminal."""
    table = Table(title="Test metrics per arm (mean ± std over seeds)")
    table.add_column("arm")
    table.add_column("runs", justify="right")
    for m in METRIC_NAMES:
        table.add_column(HEADERS[m], justify="right")
    for arm, stats in results["summary"].items():
        table.add_row(
            arm,
            str(stats["accuracy"]["n"]),
            *[fmt(stats.get(m), percent=(m == "accuracy")) for m in METRIC_NAMES],
        )
    return table


def rich_summary(results: dict[str, Any]) -> Group:
    """What the terminal shows: Table II, the seed-level sentences, the test-set sentences."""
    parts: list[Any] = [rich_table(results), *(Text(t) for t in results.get("sentences", []))]
    if results.get("verdict"):
        parts.append(Text(f"Verdict: {results['verdict']}", style="bold"))
    if results.get("test_set"):
        parts += [
            Text(""),
            Text(TEST_SET_TITLE, style="bold"),
            *(Text(t) for t in test_set_sentences(results["test_set"])),
        ]
    return Group(*parts)
