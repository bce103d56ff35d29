"""Human-readable audit output: a markdown fragment and the closest-pairs PNG."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from medaug.atomic import atomic_path
from medaug.auditing.metrics import MetricSet
from medaug.auditing.results import AuditReport, ClassAudit, ClosestPair

#: (label, attribute, digits, what good looks like)
FIGURES: tuple[tuple[str, str, int, str], ...] = (
    ("FID", "fid", 2, "near the real-vs-real floor"),
    ("KID", "kid", 4, "near the floor (about 0)"),
    ("precision", "precision", 3, "near the floor: synthetic images look real"),
    ("recall", "recall", 3, "near the floor: the real variety is reproduced"),
    ("density", "density", 3, "about 1"),
    ("coverage", "coverage", 3, "near the floor"),
    ("C2ST AUC", "c2st_auc", 3, "about 0.5: indistinguishable"),
)


def _cell(metrics: MetricSet, attr: str, digits: int) -> str:
    value = getattr(metrics, attr)
    std = getattr(metrics, f"{attr}_std")
    return f"{value:.{digits}f} ± {std:.{digits}f}"


def class_markdown(audit: ClassAudit, *, png: str | None = None, heading: str = "###") -> str:
    """The markdown section of one class; ``png`` is the closest-pairs image's link."""
    m, b, mem = audit.metrics, audit.baseline, audit.memorization
    lines = [
        f"{heading} {audit.name}",
        "",
        f"**Verdict:** {audit.verdict.summary}.",
        "",
        f"{audit.n_synthetic} synthetic vs {audit.n_real} real images "
        f"(real vs real: two patient-disjoint halves of {b.n_reference} and {b.n_compared}).",
        "",
        "| figure | synthetic vs real | real vs real (floor) | good when |",
        "| --- | ---: | ---: | --- |",
    ]
    for label, attr, digits, good in FIGURES:
        lines.append(f"| {label} | {_cell(m, attr, digits)} | {_cell(b, attr, digits)} | {good} |")
    feature = (
        f", feature-space threshold {mem.feature_threshold:.4f}"
        if mem.feature_threshold is not None
        else ""
    )
    nearest = mem.real_nearest
    lines += [
        "",
        f"**Memorization:** {len(mem.flagged)} of {audit.n_synthetic} synthetic images flagged "
        f"as near-copies of the {audit.n_train} training images (pixel similarity threshold "
        f"{mem.threshold:.4f}{feature}; distinct real patients: median "
        f"{nearest.get('median', float('nan')):.4f}, max {nearest.get('max', float('nan')):.4f}).",
    ]
    for match in mem.flagged[:10]:
        lines.append(
            f"- `{audit.synthetic_ids[match.synthetic]}` ~ `{audit.train_ids[match.train]}` "
            f"(similarity {match.similarity:.4f}, {'+'.join(match.flagged_by)})"
        )
    if len(mem.flagged) > 10:
        lines.append(f"- ... and {len(mem.flagged) - 10} more (see the JSON)")
    if png:
        lines += ["", f"![closest pairs of {audit.name}]({png})"]
    return "\n".join(lines) + "\n"


def missing_line(missing: Sequence[str], shown: int = 5) -> str:
    """One sentence naming the manifest's files that are missing (not audited)."""
    names = ", ".join(missing[:shown]) + (
        f" and {len(missing) - shown} more" if len(missing) > shown else ""
    )
    return (
        f"{len(missing)} file(s) listed in the manifest are missing and were not audited: {names}"
    )


def report_markdown(
    report: AuditReport, *, pngs: Mapping[str, str] | None = None, heading: str = "##"
) -> str:
    """The whole audit as markdown (``pngs``: class name -> closest-pairs image link)."""
    info = report.extractor_info
    trained = f", trained on {info['trained_on']} real images" if "trained_on" in info else ""
    weights = f", weights `{info['weights']}`" if "weights" in info else ""
    parts = [
        f"{heading} Audit of the synthetic images",
        "",
        f"Extractor `{report.extractor}` (SHA-256 `{report.extractor_sha256[:16]}`{trained}"
        f"{weights}) at {report.image_size} px: figures made with another extractor or other "
        "weights are not comparable. ± is one standard deviation (docs/audit.md).",
        "",
    ]
    if report.missing:
        parts += [f"**Warning:** {missing_line(report.missing)}.", ""]
    sub = heading + "#"
    for name, audit in report.classes.items():
        parts.append(class_markdown(audit, png=(pngs or {}).get(name), heading=sub))
    return "\n".join(parts)


def write_closest_pairs(
    path: Path, pairs: tuple[ClosestPair, ...] | list[ClosestPair], title: str
) -> None:
    """A PNG with one row per pair: the synthetic image, its nearest training image."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = max(1, len(pairs))
    fig, axes = plt.subplots(rows, 2, figsize=(4.4, 2.2 * rows + 0.4), squeeze=False)
    for row, pair in enumerate(pairs):
        for col, (image, label) in enumerate(
            ((pair.synthetic, pair.synthetic_id), (pair.train, pair.train_id))
        ):
            ax = axes[row][col]
            shown = image[0] if image.shape[0] == 1 else image.transpose(1, 2, 0)
            ax.imshow(shown, cmap="gray" if image.shape[0] == 1 else None, vmin=0, vmax=255)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(label if len(label) <= 28 else "..." + label[-25:], fontsize=7)
        flag = "  COPY" if pair.flagged else ""
        axes[row][0].set_ylabel(
            f"{pair.similarity:.4f}{flag}", fontsize=8, color="red" if pair.flagged else "black"
        )
    if not pairs:
        for ax in axes[0]:
            ax.axis("off")
    height = 2.2 * rows + 0.4
    fig.suptitle(f"{title}: closest synthetic (left) / training (right) pairs", fontsize=8)
    fig.tight_layout(rect=(0.0, 0.0, 1.0, 1.0 - 0.35 / height))
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)


__all__ = ["class_markdown", "missing_line", "report_markdown", "write_closest_pairs"]
