"""``balance``: grow the rare classes of a dataset with generators, into a new folder.

:class:`BalanceRun` is the engine. Its steps, each restartable: check the output folder
(fresh, its own interrupted run, its own finished run, or refuse), load the data, decide
the counts (:mod:`.strategy`), link the real images, fit the generators
(:mod:`.fitting`: per class or one conditional model, checkpointed as it goes), write
the synthetic images (:mod:`.sampling`), then the manifest and the report. Every path
comes from :class:`~medaug.output.layout.OutputLayout`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from medaug import distributed as dist
from medaug._version import __version__
from medaug.balancing.audit import audit_run
from medaug.balancing.config import BalanceConfig
from medaug.balancing.curation import curation_summary
from medaug.balancing.files import link_file
from medaug.balancing.inputs import (
    duplicate_warnings,
    real_names,
    skipped_inputs,
    skipped_line,
)
from medaug.balancing.report import write_class_figures, write_report_md
from medaug.balancing.resume import (
    check_data_unchanged,
    data_fingerprint,
    existing_state,
    run_settings,
)
from medaug.balancing.session import Session
from medaug.balancing.summary import BalanceSummary, capped_lines
from medaug.balancing.timings import Timings
from medaug.balancing.writing import link_reals, sample_class
from medaug.data.dataset import ImageDataset
from medaug.data.names import NOT_UTF8, is_utf8, printable
from medaug.data.summary import relative_name
from medaug.errors import MedaugError
from medaug.generation.fitting import (
    DataShape,
    GeneratorFitter,
    GeneratorSpec,
    TrainingUnit,
    TrainResult,
)
from medaug.generation.progress import NullReporter, Reporter
from medaug.output import OutputFolder, admit, claim_output
from medaug.output.layout import DATASET_DIR, OutputLayout
from medaug.output.manifest import write_manifest
from medaug.output.runstate import RunState, now_iso
from medaug.output.strategy import cap_share, resolve_targets


@dataclass
class BalanceResult:
    """The outcome: the summary (typed; its mapping view is what ``--json`` prints) plus
    a few handy paths."""

    summary: BalanceSummary
    layout: OutputLayout
    already_complete: bool = False

    @property
    def out(self) -> Path:
        return self.layout.root

    @property
    def dataset_root(self) -> Path:
        """The folder holding only the class folders (ImageFolder-ready)."""
        return self.layout.dataset_root

    @property
    def manifest(self) -> Path:
        return self.layout.manifest

    @property
    def report(self) -> Path:
        return self.layout.report


def balance(cfg: BalanceConfig, reporter: Reporter | None = None) -> BalanceResult:
    """Balance ``cfg.data`` into ``cfg.out`` (see :class:`BalanceConfig`)."""
    return BalanceRun(cfg, reporter).run()


class BalanceRun:
    """One ``balance`` run: owns its config, output layout, run state and timings."""

    def __init__(self, cfg: BalanceConfig, reporter: Reporter | None = None) -> None:
        self.cfg = cfg
        self.reporter = reporter or NullReporter()
        self.data = cfg.data_root
        for what, path in (("DATA", self.data), ("--out", cfg.out.absolute())):
            if not is_utf8(path):
                raise MedaugError(f"{what} '{printable(path)}': {NOT_UTF8}")
        if not self.data.exists():
            raise MedaugError(f"DATA {cfg.data} does not exist")
        self.layout = OutputLayout(cfg.out.absolute())
        self.settings = run_settings(cfg, self.data)
        #: OUT as claimed by :meth:`run`
        self.folder: OutputFolder | None = None

    # -- settings and the output folder ----------------------------------------------------

    def _fingerprint(self) -> str:
        return data_fingerprint(self.data, self.cfg.options.labels)

    def _prepare_out(self, state: RunState) -> None:
        """Write OUT's run record, create its folders and copy the notice."""
        state.dataset_root = str(self.layout.dataset_root)
        state.save(self.layout.root)
        for folder in (self.layout.dataset_root, self.layout.checkpoints, self.layout.report_dir):
            admit(folder)
            folder.mkdir(exist_ok=True)
        if self.cfg.bundled:
            notice = self.data / "NOTICE.md"
            link_file(notice, self.layout.root / notice.name, "copy")

    # -- the run ---------------------------------------------------------------------------

    def run(self) -> BalanceResult:
        """Do (or finish) the run; a finished run with the same settings is left as is.
        OUT is claimed (:func:`~medaug.output.claim_output`) for the whole run."""
        inputs = [self.data, *([self.cfg.options.labels] if self.cfg.options.labels else [])]
        with claim_output(
            self.layout.root,
            command="balance",
            inputs=inputs,
            datasets=[DATASET_DIR],
            rerun="rerun with --resume",
        ) as folder:
            self.folder = folder
            return self._run()

    def _run(self) -> BalanceResult:
        from medaug.data import class_folder_names, load_dataset
        from medaug.runtime import resolve_device, seed_everything

        cfg, layout = self.cfg, self.layout
        t_start = time.perf_counter()
        assert self.folder is not None
        state = existing_state(self.folder, self.settings, resume=cfg.resume)
        if state is not None:
            check_data_unchanged(state, self._fingerprint(), self.data, layout)
        if state is not None and state.status == "complete":
            done = BalanceSummary.from_dict(dict(state.summary, status="already_complete"))
            return BalanceResult(done, layout, already_complete=True)
        device = resolve_device(cfg.device)
        seed_everything(cfg.seed)

        t_load = time.perf_counter()
        with dist.main_first():  # under torchrun: decode into the cache once per machine
            ds = load_dataset(
                self.data,
                image_size=cfg.image_size,
                channels=cfg.channels,
                progress=cfg.progress,
                min_classes=2,
                options=cfg.options,
            )
        load_seconds = time.perf_counter() - t_load
        asked = resolve_targets(ds.counts(), cfg.strategy, cfg.count)
        to_add = cap_share(ds.counts(), asked, cfg.max_synthetic_share)
        folders = class_folder_names(ds.classes)
        shape = DataShape(cfg.image_size, ds.channels, _output_format(ds), ds.bit_depth)
        fitter = GeneratorFitter(
            GeneratorSpec.of(cfg.generation(), shape, device), ds.classes, self.reporter
        )
        outputs = self._output_paths(ds, folders)
        warnings = fitter.check_sizes(ds.counts(), sorted(to_add))
        warnings += duplicate_warnings(ds.records, self._input_name(outputs, ds.root))
        for warning in warnings:
            self.reporter.message(f"warning: {warning}")
        skipped = skipped_line(skipped_inputs(ds.skipped, ds.root, named=True))
        if skipped:
            self.reporter.message(f"{skipped} (listed in the report)")

        # under torchrun, rank 0 alone owns OUT: the claim, the run record, the real files,
        # the sampling and the report; every rank trains its share of the generators
        with dist.main_first(local=False):
            if dist.is_main():
                resumed = state is not None
                if state is None:
                    state = RunState(settings=self.settings, data_fingerprint=self._fingerprint())
                else:
                    self.reporter.message(f"resuming the interrupted run in {layout.root}")
                self._prepare_out(state)
        state, resumed = dist.broadcast_object((state, resumed if dist.is_main() else False))
        assert state is not None
        timings = Timings.from_dict(state.summary.get("seconds"))
        timings.load += load_seconds
        run = Session(ds, dict(to_add), folders, state, timings, device, resumed, warnings)
        run.outputs = outputs
        run.capped = {c: n for c, n in asked.items() if to_add.get(c, 0) < n}
        summary: BalanceSummary | None = None
        if dist.is_main():
            run.rows = link_reals(self.cfg, self.layout, run)
        if self._grow(run, fitter):
            timings.total += time.perf_counter() - t_start
            summary = self._finish(run)
        final = dist.broadcast_object(summary)  # the other ranks return rank 0's summary
        assert final is not None
        return BalanceResult(final, layout)

    def _output_paths(
        self, ds: ImageDataset, folders: dict[str, str]
    ) -> dict[str, dict[Path, str]]:
        """Per class, every real input file -> its path in OUT, relative to OUT."""
        outputs: dict[str, dict[Path, str]] = {}
        for cls in ds.classes:
            recs = [ds.records[i] for i in ds.class_indices(cls)]
            names = real_names(recs, Path(ds.root), neutral=self.cfg.deidentified)
            folder = self.layout.class_dir(folders[cls])
            outputs[cls] = {src: self.layout.relative(folder / n) for src, n in names.items()}
        return outputs

    def _input_name(self, outputs: dict[str, dict[Path, str]], root: Path) -> Callable[[Path], str]:
        """How messages that go into OUT name an input file: relative to DATA, or by its
        place in OUT when OUT is de-identified."""
        if self.cfg.deidentified:
            placed = {src: rel for names in outputs.values() for src, rel in names.items()}
            return lambda path: placed.get(path, "?")
        return lambda path: relative_name(path, root)

    def _grow(self, run: Session, fitter: GeneratorFitter) -> bool:
        """Fit (or resume) each training unit, then write its classes' synthetic images.

        Under torchrun the units are shared out between the ranks (unit ``i`` on rank
        ``i % world_size``: class-parallel, so every generator sees exactly what it sees
        in a single process and the images are the same); then rank 0 samples them all.
        Returns whether this process goes on to finish the run (rank 0)."""
        layout, timings, state = self.layout, run.timings, run.state
        images = run.ds.to_tensor()
        targets = torch.as_tensor(run.ds.targets)
        units = fitter.units(sorted(run.to_add))

        def fit(unit: TrainingUnit) -> TrainResult:
            unit_file = run.folders.get(unit.name, unit.name)
            return fitter.fit(
                unit,
                images,
                targets,
                checkpoint=layout.checkpoint(unit_file),
                grid_dir=layout.progress_dir(unit_file),
            )

        trained: dict[str, float] = {}
        if dist.world_size() > 1:
            for i, unit in enumerate(units):
                if i % dist.world_size() == dist.rank():
                    trained[unit.name] = fit(unit).seconds
            for part in dist.all_gather_object(trained):
                trained.update(part)
            if not dist.is_main():
                return False
        for unit in units:
            result = fit(unit)  # under torchrun: complete, read back from its checkpoint
            timings.unit(unit.name).train += trained.get(unit.name, result.seconds)
            state.class_state(unit.name).update(trained=True, epochs=result.info.epochs_done)
            self._save(run)
            for cls in unit.classes:
                run.fitted[cls] = result
                t0 = time.perf_counter()
                run.rows += sample_class(self.cfg, layout, run, (cls, result), self.reporter)
                timings.unit(unit.name).sample += time.perf_counter() - t0
                self._save(run)
        return True

    def _save(self, run: Session) -> None:
        """Persist the run record with the timings so far (resumed runs add them up)."""
        run.state.summary["seconds"] = run.timings.to_dict()
        run.state.save(self.layout.root)

    def _finish(self, run: Session) -> BalanceSummary:
        layout, ds, to_add, rows, state = self.layout, run.ds, run.to_add, run.rows, run.state
        counts = ds.counts()
        write_manifest(layout.manifest, rows)
        audit = (
            audit_run(self.cfg, layout, run, self.reporter) if self.cfg.audit and to_add else None
        )
        figures = {
            cls: write_class_figures(
                layout,
                ds,
                cls,
                run.fitted[cls].history,
                [layout.root / r.path for r in rows if r.label == cls and r.source == "synthetic"],
                seed=self.cfg.seed,
            )
            for cls in sorted(to_add)
        }
        state.status = "complete"
        state.finished = now_iso()
        summary = BalanceSummary(
            status="complete",
            data=str(self.data),
            bundled=self.cfg.bundled,
            out=str(layout.root),
            dataset_root=str(layout.dataset_root),
            generator=self.cfg.generator,
            device=str(run.device),
            classes=list(ds.classes),
            counts_before=counts,
            added={c: to_add.get(c, 0) for c in ds.classes},
            counts_after={c: counts[c] + to_add.get(c, 0) for c in ds.classes},
            skipped_inputs=len(ds.skipped),
            skipped=skipped_inputs(ds.skipped, ds.root, named=not self.cfg.deidentified),
            output_format=_output_format(ds),
            manifest=str(layout.manifest),
            manifest_rows=len(rows),
            report=str(layout.report),
            checkpoints={c: str(r.checkpoint) for c, r in run.fitted.items()},
            resumed=run.resumed,
            started=state.started,
            finished=state.finished,
            seconds=run.timings.to_dict(),
            warnings=run.warnings,
            audit=audit.figures if audit else None,
            generator_epochs={
                unit: info["epochs"] for unit, info in state.classes.items() if "epochs" in info
            },
            study_uid=state.summary.get("study_uid"),
            curation=curation_summary(self.cfg, run),
            capped=run.capped or None,
        )
        notes = [f"warning: {w}" for w in run.warnings] + capped_lines(summary)
        if self.cfg.bundled:
            steps = self.cfg.effective_steps
            length = f"{steps} steps" if steps else f"{self.cfg.effective_epochs} epochs"
            notes.append(
                "bundled demo sample of ChestXray2017 (Kermany et al., CC BY 4.0, see "
                f"NOTICE.md); short training ({length} per generator)"
            )
        write_report_md(
            layout.report,
            summary=summary,
            settings={**state.settings, "device": str(run.device), "medaug": __version__},
            images=figures,
            notes=notes,
            audit=audit.markdown if audit else None,
        )
        state.summary = summary.to_dict()
        state.save(layout.root)
        return summary


def _output_format(ds: ImageDataset) -> str:
    return "dicom" if ds.source_format == "dicom" else "png"


__all__ = ["BalanceResult", "BalanceRun", "balance", "real_names"]
