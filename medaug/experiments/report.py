"""``report.md`` (the paper's Table II layout plus the extra metrics) and the rich table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.table import Table

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


def _diff(d: dict[str, Any], metric: str) -> str:
    if d.get("mean") is None:
        return "n/a"
    text = f"{100 * d['mean']:+.1f} ± {100 * d['std']:.1f}"
    if d.get("ci_low") is not None:
        text += f" [{100 * d['ci_low']:+.1f}, {100 * d['ci_high']:+.1f}]"
    return text


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
            f"{r['threshold']:.3f} | {100 * t['accuracy']:.1f} | {t['precision']:.3f} | "
            f"{t['recall']:.3f} | {(t['specificity'] or 0):.3f} | {t['confusion_matrix']} |"
        )
    tc = s["train_config"]
    added = s["synthetic"] or f"strategy {s['strategy'] or 'auto'}"
    versions = ", ".join(f"{k} {v}" for k, v in results["versions"].items() if isinstance(v, str))
    lines += [
        "",
        "## Settings",
        "",
        f"- data: train {results['data']['train']}, test {results['data']['test']}, "
        f"{results['data']['channels']} channel(s)",
        f"- classifier: epochs {tc['epochs']}, batch {tc['batch_size']}, lr {tc['lr']}, "
        f"class weights {tc['class_weights']}, monitor {tc['monitor']} (patience "
        f"{tc['patience']}), threshold {tc['threshold']}, augment `{s['augment']}`",
        f"- synthetic: {added} per selected class; generator epochs {s['gen_epochs']}, "
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


def write_report(results: dict[str, Any], path: Path) -> Path:
    """Write ``report.md``."""
    path.write_text(markdown(results))
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
