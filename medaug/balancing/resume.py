"""Whether a ``balance`` run may start or continue in its output folder: the settings it
records, the run it continues, and the input it was started on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from medaug.balancing.config import BalanceConfig
from medaug.errors import MedaugError
from medaug.generation.settings import STEPS_PER_IMAGE
from medaug.output import OutputFolder
from medaug.output.layout import OutputLayout
from medaug.output.runstate import RunState, load_state, settings_diff
from medaug.output.strategy import parse_strategy


def run_settings(cfg: BalanceConfig, data: Path) -> dict[str, Any]:
    """What the run record keeps of ``cfg`` (a resumed run must repeat it)."""
    strategy = parse_strategy(cfg.strategy)
    read = cfg.options.read_settings()
    settings = {
        "data": str(data),
        "generator": cfg.generator,
        "generator_options": dict(sorted(cfg.generator_options.items())),
        "strategy": strategy if not isinstance(strategy, dict) else dict(sorted(strategy.items())),
        "count": cfg.count,
        "image_size": cfg.image_size,
        "channels": str(cfg.channels),
        "epochs": cfg.effective_epochs,
        "batch_size": cfg.effective_batch_size,
        "seed": cfg.seed,
        "labels": read.pop("labels", None),
        "label_tag": read.pop("label_tag", None),
        "link": cfg.link,
    }
    # step-based training and other reading options only when given, so that runs
    # without them keep their old settings (and stay resumable)
    if cfg.reject_memorized:
        settings["reject_memorized"] = True
    if cfg.max_synthetic_share is not None:
        settings["max_synthetic_share"] = cfg.max_synthetic_share
    if cfg.curation.active:
        settings["curation"] = cfg.curation.to_json()
    if cfg.effective_steps is not None:
        settings["steps"] = cfg.effective_steps
        settings["checkpoint_every"] = cfg.effective_checkpoint_every
    if cfg.steps_by_size:
        settings["steps_per_image"] = STEPS_PER_IMAGE
    if read:
        settings["data_options"] = read
    return settings


def existing_state(
    folder: OutputFolder, settings: dict[str, Any], *, resume: bool
) -> RunState | None:
    """The run state to continue in ``folder``, ``None`` for a fresh run; raise when the
    folder is unusable."""
    out = folder.root
    if not folder.entries:  # new, empty, or holding only medaug's marker
        return None
    state = load_state(out)
    if state is None:
        raise MedaugError(
            f"--out {out} is not empty and is not a medaug balance run; choose a new folder"
        )
    diff = settings_diff(state.settings, settings)
    if diff:
        raise MedaugError(
            f"{out} holds a run with other settings ({'; '.join(diff)}); "
            "choose another --out or repeat the original command"
        )
    if state.status != "complete" and not resume:
        raise MedaugError(
            f"{out} holds an interrupted run; add --resume to continue it (or choose another --out)"
        )
    return state


def data_fingerprint(data: Path, labels: Path | str | None) -> str:
    """A digest of the input tree (and of the labels file), recorded with the run."""
    from medaug.data.files import tree_fingerprint

    extra = ""
    if labels is not None and Path(labels).is_file():
        st = Path(labels).stat()
        extra = f"{st.st_size}:{st.st_mtime_ns}"
    return f"{tree_fingerprint(data)}:{extra}"


def check_data_unchanged(state: RunState, fingerprint: str, data: Path, out: OutputLayout) -> None:
    """Raise when DATA changed since the run in ``out`` started or finished."""
    if state.data_fingerprint and state.data_fingerprint != fingerprint:
        when = "finished" if state.status == "complete" else "started"
        raise MedaugError(
            f"DATA {data} has changed since the run in {out.root} {when} "
            "(files added, removed or rewritten); nothing was changed: balance the "
            "current data into a new --out"
        )


__all__ = ["check_data_unchanged", "data_fingerprint", "existing_state", "run_settings"]
