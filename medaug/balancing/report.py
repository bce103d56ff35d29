"""``OUT/report/``: loss curves per class, real-vs-synthetic grids and ``report.md``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from medaug.atomic import atomic_path, atomic_write_text
from medaug.balancing.summary import BalanceSummary
from medaug.data.dataset import ImageDataset
from medaug.data.names import class_folder_names, printable
from medaug.generation.grids import make_grid, save_image
from medaug.output.layout import OutputLayout
from medaug.plugins import format_of

GRID_SIZE = 64  # images per grid (8 x 8)


def side_by_side(left: Image.Image, right: Image.Image, gap: int = 12) -> Image.Image:
    """Two grids next to each other on a white background."""
    mode = "RGB" if "RGB" in (left.mode, right.mode) else "L"
    width = left.width + gap + right.width
    height = max(left.height, right.height)
    canvas = Image.new(mode, (width, height), color=255 if mode == "L" else (255, 255, 255))
    canvas.paste(left.convert(mode), (0, 0))
    canvas.paste(right.convert(mode), (left.width + gap, 0))
    return canvas


def read_synthetic(paths: Sequence[Path], channels: int) -> torch.Tensor:
    """Read written synthetic files (PNG or DICOM: the format that claims each) back as
    ``[-1, 1]`` tensors."""
    arrays: list[np.ndarray] = []
    for p in paths:
        arr = format_of(p).read_unit(p)
        if arr.shape[0] != channels:
            arr = np.repeat(arr[:1], channels, 0) if channels == 3 else arr.mean(0, keepdims=True)
        arrays.append(arr * 2 - 1)
    if not arrays:
        return torch.zeros(0, channels, 8, 8)
    return torch.from_numpy(np.stack(arrays))


def plot_losses(path: Path, cls: str, history: Mapping[str, Sequence[float]]) -> None:
    """Generator and discriminator losses, D(x) and D(G(z)) per iteration (paper Fig. 6)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    names = {"loss_g": "G", "loss_d": "D", "d_x": "D(x)", "d_g_z": "D(G(z))"}
    probs = [k for k in ("d_x", "d_g_z") if history.get(k)]
    losses = [k for k in history if k not in probs and history.get(k)]
    fig, axes = plt.subplots(1, 2 if probs else 1, figsize=(11 if probs else 6, 3.8), squeeze=False)
    ax1 = axes[0][0]
    for key in sorted(losses, key=lambda k: (k not in names, k)):
        ax1.plot(history[key], label=names.get(key, key), linewidth=0.9)
    ax1.set(title=f"{cls}: training losses", xlabel="iteration", ylabel="loss")
    if losses:
        ax1.legend()
    if probs:
        ax2 = axes[0][1]
        for key in probs:
            ax2.plot(history[key], label=names[key], linewidth=0.9)
        ax2.set(title=f"{cls}: discriminator outputs", xlabel="iteration", ylim=(0, 1))
        ax2.legend()
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)


def write_class_figures(
    layout: OutputLayout,
    ds: ImageDataset,
    cls: str,
    history: Mapping[str, Sequence[float]],
    synthetic: Sequence[Path],
    *,
    seed: int,
) -> dict[str, str]:
    """Loss curves and a real-vs-synthetic grid of one grown class; returns the figures'
    paths relative to the report folder (``losses``, ``samples``, ``progress``)."""
    folder = class_folder_names(ds.classes)[cls]
    figs: dict[str, str] = {}
    if history:
        plot_losses(layout.losses_png(folder), cls, history)
        figs["losses"] = layout.losses_png(folder).name
    idx = ds.class_indices(cls)
    pick = torch.randperm(len(idx), generator=torch.Generator().manual_seed(seed))[:GRID_SIZE]
    real = ds.to_tensor(idx[pick.numpy()])
    synth = read_synthetic(sorted(synthetic)[:GRID_SIZE], ds.channels)
    save_image(layout.samples_png(folder), side_by_side(make_grid(real), make_grid(synth)))
    figs["samples"] = layout.samples_png(folder).name
    figs["progress"] = layout.progress_dir(folder).relative_to(layout.report_dir).as_posix() + "/"
    return figs


def _cell(value: Any) -> str:
    """A table cell: a ``|`` in a class or file name does not split it."""
    return printable(str(value)).replace("|", "\\|")


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def skipped_section(skipped: Mapping[str, Any]) -> list[str]:
    """``## Skipped input files``: each file with its reason, or (de-identified output)
    the count per reason."""
    if not skipped.get("count"):
        return []
    parts = ["## Skipped input files", ""]
    files = skipped.get("files")
    if isinstance(files, list):
        parts += [
            f"{skipped['count']} input file(s) were not used:",
            "",
            _table(["file", "reason"], [[f["path"], f["reason"]] for f in files]),
        ]
    else:
        parts += [
            f"{skipped['count']} input file(s) were not used ({skipped.get('withheld', '')}):",
            "",
            _table(["reason", "files"], list(skipped.get("reasons", {}).items())),
        ]
    return [*parts, ""]


def curation_section(curation: Mapping[str, Any] | None) -> list[str]:
    """The report's curation section (none without ``--filter``)."""
    if not curation:
        return []
    policy = ", ".join(f"{k} {v}" for k, v in curation["policy"].items())
    if curation.get("reject_memorized"):
        policy += ", near-copies rejected"
    rows = [
        [c, f["asked"], f["drawn"], f["accepted"], f"{f['acceptance_rate']:.0%}", f["kept"]]
        for c, f in curation["classes"].items()
    ]
    short = [c for c, f in curation["classes"].items() if f["kept"] < f["asked"]]
    parts = [
        "## Curation",
        "",
        f"Policy: {policy}. Candidates are drawn in the generator's stream order and the "
        "accepted ones kept until the class has enough.",
        "",
        _table(["class", "wanted", "drawn", "accepted", "acceptance", "kept"], rows),
        "",
    ]
    if short:
        parts += [
            f"Too few candidates were accepted for {', '.join(short)}: the generator's images "
            "fall off the real images' manifold, and these classes grew by fewer images.",
            "",
        ]
    return parts


def write_report_md(
    path: Path,
    *,
    summary: BalanceSummary,
    settings: Mapping[str, Any],
    images: Mapping[str, Mapping[str, str]],
    notes: Sequence[str] = (),
    audit: str | None = None,
) -> None:
    """``report.md``: counts before/after, settings, timings and links to the figures."""
    before, added, after = summary.counts_before, summary.added, summary.counts_after
    seconds = summary.seconds
    parts = [
        "# medaug balance report",
        "",
        f"- data: `{summary.data}`" + (" (bundled sample)" if summary.bundled else ""),
        f"- output: `{summary.out}`",
        f"- generator: `{summary.generator}`, device `{summary.device}`",
        f"- started {summary.started}, finished {summary.finished}",
        *[f"- {n}" for n in notes],
        "",
        "## Counts",
        "",
        _table(
            ["class", "real", "synthetic added", "total"],
            [[c, before[c], added.get(c, 0), after[c]] for c in before],
        ),
        "",
        "## Settings",
        "",
        _table(["setting", "value"], [[k, f"`{v}`"] for k, v in settings.items()]),
        "",
        "## Timings (seconds)",
        "",
        _table(
            ["generator", "epochs", "training", "sampling + writing"],
            [
                [
                    c,
                    summary.generator_epochs.get(c, ""),
                    f"{t.get('train', 0.0):.1f}",
                    f"{t.get('sample', 0.0):.1f}",
                ]
                for c, t in seconds.get("classes", {}).items()
            ],
        ),
        "",
        f"Loading data {seconds.get('load', 0.0):.1f} s; whole run "
        f"{seconds.get('total', 0.0):.1f} s (summed over resumed sessions).",
        "",
    ]
    parts += skipped_section(summary.skipped)
    parts += curation_section(summary.curation)
    if audit:
        parts += [audit, ""]
    for cls, figs in images.items():
        parts += [f"## {cls}", ""]
        if figs.get("losses"):
            parts += [f"Losses per iteration: ![losses {cls}]({figs['losses']})", ""]
        if figs.get("samples"):
            parts += [f"Real (left) vs synthetic (right): ![samples {cls}]({figs['samples']})", ""]
        if figs.get("progress"):
            parts += [f"Fixed-noise grids per epoch: `{figs['progress']}`", ""]
    atomic_write_text(path, "\n".join(parts))
