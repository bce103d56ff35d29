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
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import torch

from medaug import distributed as dist
from medaug._version import __version__
from medaug.balancing.config import BalanceConfig
from medaug.balancing.files import link_file
from medaug.balancing.inputs import (
    duplicate_warnings,
    real_names,
    skipped_inputs,
    skipped_line,
)
from medaug.balancing.report import write_class_figures, write_report_md
from medaug.balancing.timings import Timings
from medaug.data.dataset import ImageDataset
from medaug.data.names import NOT_UTF8, is_utf8, printable
from medaug.data.options import DataOptions
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
from medaug.generation.sampling import SampleJob, replace_images, sample_to_files
from medaug.generation.writer import Series, new_uid
from medaug.output import OutputFolder, admit, claim_output
from medaug.output.layout import DATASET_DIR, OutputLayout
from medaug.output.manifest import ManifestRow, write_manifest
from medaug.output.runstate import RunState, load_state, now_iso, settings_diff
from medaug.output.strategy import parse_strategy, resolve_targets


@dataclass
class BalanceResult:
    """The outcome: the summary printed by ``--json`` plus a few handy paths."""

    summary: dict[str, Any]
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


@dataclass
class _Session:
    """What one session of a run works with, once the data is loaded."""

    ds: ImageDataset
    to_add: dict[str, int]
    folders: dict[str, str]
    state: RunState
    timings: Timings
    device: torch.device
    resumed: bool
    warnings: list[str]
    #: per class, every real input file -> its path in OUT (relative, as in the manifest)
    outputs: dict[str, dict[Path, str]] = field(default_factory=dict)
    rows: list[ManifestRow] = field(default_factory=list)
    fitted: dict[str, TrainResult] = field(default_factory=dict)
    jobs: dict[str, SampleJob] = field(default_factory=dict)


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
        self.settings = self._settings()
        #: OUT as claimed by :meth:`run`
        self.folder: OutputFolder | None = None

    # -- settings and the output folder ----------------------------------------------------

    def _settings(self) -> dict[str, Any]:
        cfg = self.cfg
        strategy = parse_strategy(cfg.strategy)
        read = cfg.options.read_settings()
        settings = {
            "data": str(self.data),
            "generator": cfg.generator,
            "generator_options": dict(sorted(cfg.generator_options.items())),
            "strategy": strategy
            if not isinstance(strategy, dict)
            else dict(sorted(strategy.items())),
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
        if cfg.effective_steps is not None:
            settings["steps"] = cfg.effective_steps
            settings["checkpoint_every"] = cfg.effective_checkpoint_every
        if read:
            settings["data_options"] = read
        return settings

    def _existing_state(self) -> RunState | None:
        """The run state to continue, ``None`` for a fresh run; raise when OUT is unusable."""
        out = self.layout.root
        assert self.folder is not None
        if not self.folder.entries:  # new, empty, or holding only medaug's marker
            return None
        state = load_state(out)
        if state is None:
            raise MedaugError(
                f"--out {out} is not empty and is not a medaug balance run; choose a new folder"
            )
        diff = settings_diff(state.settings, self.settings)
        if diff:
            raise MedaugError(
                f"{out} holds a run with other settings ({'; '.join(diff)}); "
                "choose another --out or repeat the original command"
            )
        if state.status != "complete" and not self.cfg.resume:
            raise MedaugError(
                f"{out} holds an interrupted run; add --resume to continue it "
                "(or choose another --out)"
            )
        return state

    def _fingerprint(self) -> str:
        """A digest of the input tree (and of the labels file), recorded with the run."""
        from medaug.data.files import tree_fingerprint

        labels = self.cfg.options.labels
        extra = ""
        if labels is not None and Path(labels).is_file():
            st = Path(labels).stat()
            extra = f"{st.st_size}:{st.st_mtime_ns}"
        return f"{tree_fingerprint(self.data)}:{extra}"

    def _check_data_unchanged(self, state: RunState) -> None:
        if state.data_fingerprint and state.data_fingerprint != self._fingerprint():
            when = "finished" if state.status == "complete" else "started"
            raise MedaugError(
                f"DATA {self.data} has changed since the run in {self.layout.root} {when} "
                "(files added, removed or rewritten); nothing was changed: balance the "
                "current data into a new --out"
            )

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
        state = self._existing_state()
        if state is not None:
            self._check_data_unchanged(state)
        if state is not None and state.status == "complete":
            done = dict(state.summary, status="already_complete")
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
        to_add = resolve_targets(ds.counts(), cfg.strategy, cfg.count)
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
        run = _Session(ds, dict(to_add), folders, state, timings, device, resumed, warnings)
        run.outputs = outputs
        summary: dict[str, Any] | None = None
        if dist.is_main():
            run.rows = self._link_reals(run)
        if self._grow(run, fitter):
            timings.total += time.perf_counter() - t_start
            summary = self._finish(run)
        final = dist.broadcast_object(summary)  # the other ranks return rank 0's summary
        return BalanceResult(final or {}, layout)

    @property
    def deidentified(self) -> bool:
        """Whether OUT must carry no input file name (``--link copy-deidentified``)."""
        return self.cfg.link == "copy-deidentified"

    def _output_paths(
        self, ds: ImageDataset, folders: dict[str, str]
    ) -> dict[str, dict[Path, str]]:
        """Per class, every real input file -> its path in OUT, relative to OUT."""
        outputs: dict[str, dict[Path, str]] = {}
        for cls in ds.classes:
            recs = [ds.records[i] for i in ds.class_indices(cls)]
            names = real_names(recs, Path(ds.root), neutral=self.deidentified)
            folder = self.layout.class_dir(folders[cls])
            outputs[cls] = {src: self.layout.relative(folder / n) for src, n in names.items()}
        return outputs

    def _input_name(self, outputs: dict[str, dict[Path, str]], root: Path) -> Callable[[Path], str]:
        """How messages that go into OUT name an input file: relative to DATA, or by its
        place in OUT when OUT is de-identified."""
        if self.deidentified:
            placed = {src: rel for names in outputs.values() for src, rel in names.items()}
            return lambda path: placed.get(path, "?")
        return lambda path: relative_name(path, root)

    def _grow(self, run: _Session, fitter: GeneratorFitter) -> bool:
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
                run.rows += self._sample_class(run, cls, result)
                timings.unit(unit.name).sample += time.perf_counter() - t0
                self._save(run)
        return True

    def _audit(self, run: _Session) -> dict[str, Any]:
        """Audit every grown class (``medaug audit OUT``) into ``report/audit/``; with
        ``reject_memorized``, first replace the flagged near-copies with fresh samples and
        audit again. An audit that cannot run (too few images...) is skipped with a reason;
        classes too small to audit are named in ``not_audited``."""
        from medaug.auditing import (
            AuditSettings,
            ExtractorSpec,
            audit_output,
            report_markdown,
            write_audit,
        )

        cfg, settings, counts = self.cfg, AuditSettings(), run.ds.counts()
        small = {
            c: f"{counts[c]} real and {n} synthetic images"
            for c, n in sorted(run.to_add.items())
            if counts[c] < settings.min_real or n < settings.min_synthetic
        }
        classes = sorted(c for c in run.to_add if c not in small)
        if not classes:  # checked before the extractor is trained, which takes a while
            listing = "; ".join(f"{c}: {v}" for c, v in small.items())
            return self._audit_skipped(
                f"the audit needs at least {settings.min_real} real and "
                f"{settings.min_synthetic} synthetic images of a class ({listing})"
            )
        options = DataOptions(cache_dir=cfg.options.cache_dir, workers=cfg.options.workers)
        extractor = ExtractorSpec(cfg.audit_extractor, cfg.audit_weights, cfg.audit_options)
        self.reporter.message("auditing the synthetic images (medaug audit)")

        def audit() -> Any:
            return audit_output(
                self.layout.root,
                options=options,
                extractor=extractor,
                device=run.device,
                classes=classes,
            )

        try:
            report = audit()
            replaced: dict[str, int] = {}
            if cfg.reject_memorized:
                replaced = self._reject_memorized(run, report)
                if any(replaced.values()):
                    report = audit()
        except MedaugError as exc:
            return self._audit_skipped(str(exc))
        files = write_audit(report, self.layout.report_dir / "audit")
        pngs = {c: f"audit/{p.name}" for c, p in files.closest_pairs.items()}
        summary = {**_audit_figures(report), "report": str(files.markdown)}
        if small:
            summary["not_audited"] = small
        if cfg.reject_memorized:
            summary["replaced"] = replaced
        return {"summary": summary, "markdown": report_markdown(report, pngs=pngs, heading="##")}

    def _audit_skipped(self, reason: str) -> dict[str, Any]:
        self.reporter.message(f"audit skipped: {reason}")
        return {
            "summary": {"skipped": reason},
            "markdown": f"## Audit\n\naudit skipped: {reason}\n",
        }

    def _reject_memorized(self, run: _Session, report: Any) -> dict[str, int]:
        """Replace each flagged near-copy with the next fresh sample of its generator that
        the same memorization screen accepts (deterministic: the same flags give the same
        replacements). Returns the number replaced per class."""
        from medaug.auditing import MemorizationScreen

        replaced: dict[str, int] = {}
        for cls, audit in report.classes.items():
            flagged = [Path(audit.synthetic_ids[i]).name for i in audit.flagged_indices]
            if not flagged:
                continue
            indices = [int(name.rsplit("_", 1)[1].split(".")[0]) for name in flagged]
            rows = run.ds.class_indices(cls)
            screen = MemorizationScreen(
                run.ds.to_tensor(rows),
                settings=report.settings.memorization,
                groups=[str(p) for p in run.ds.patients[rows]],
            )
            done = replace_images(
                run.fitted[cls].generator,
                run.jobs[cls],
                indices,
                partial(_copies, screen),
            )
            replaced[cls] = len(done)
            self.reporter.message(f"{cls}: replaced {len(done)} of {len(indices)} near-copies")
        return replaced

    def _save(self, run: _Session) -> None:
        """Persist the run record with the timings so far (resumed runs add them up)."""
        run.state.summary["seconds"] = run.timings.to_dict()
        run.state.save(self.layout.root)

    def _link_reals(self, run: _Session) -> list[ManifestRow]:
        rows: list[ManifestRow] = []
        for cls, names in run.outputs.items():
            for src, rel in names.items():
                dst = self.layout.root / rel
                if not dst.exists():
                    link_file(src, dst, self.cfg.link)
                rows.append(
                    ManifestRow(
                        path=rel,
                        label=cls,
                        source="real",
                        original_path="" if self.deidentified else str(src),
                        medaug_version=__version__,
                        created=run.state.started,
                    )
                )
        return rows

    def _sample_class(self, run: _Session, cls: str, result: TrainResult) -> list[ManifestRow]:
        ds, state, n = run.ds, run.state, run.to_add[cls]
        cls_state = state.class_state(cls)
        series = None
        if result.info.output_format == "dicom":
            if "study_uid" not in state.summary:
                state.summary["study_uid"] = new_uid()
            cls_state.setdefault("series_uid", new_uid())
            state.save(self.layout.root)
            series = Series(
                class_name=cls,
                study_uid=state.summary["study_uid"],
                series_uid=cls_state["series_uid"],
                series_number=ds.classes.index(cls) + 1,
            )
        job = SampleJob(
            class_name=cls,
            class_index=ds.classes.index(cls),
            n=n,
            seed=self.cfg.seed,
            out_dir=self.layout.class_dir(run.folders[cls]),
            root=self.layout.root,
            generator_name=self.cfg.generator,
            generator_options=result.info.generator_options,
            checkpoint_sha256=result.sha256,
            output_format=result.info.output_format,
            bit_depth=result.info.bit_depth,
            series=series,
        )
        run.jobs[cls] = job
        self.reporter.sampling(cls, n)
        rows = sample_to_files(
            result.generator, job, on_written=lambda k: self.reporter.sampled(cls, k)
        )
        cls_state.update(sampled=n)
        return rows

    def _finish(self, run: _Session) -> dict[str, Any]:
        layout, ds, to_add, rows, state = self.layout, run.ds, run.to_add, run.rows, run.state
        counts = ds.counts()
        write_manifest(layout.manifest, rows)
        audit = self._audit(run) if self.cfg.audit and to_add else None
        figures = {
            cls: write_class_figures(
                layout,
                ds,
                cls,
                run.folders[cls],
                run.fitted[cls].history,
                [layout.root / r.path for r in rows if r.label == cls and r.source == "synthetic"],
                seed=self.cfg.seed,
            )
            for cls in sorted(to_add)
        }
        state.status = "complete"
        state.finished = now_iso()
        summary: dict[str, Any] = {
            "status": "complete",
            "data": str(self.data),
            "bundled": self.cfg.bundled,
            "out": str(layout.root),
            "dataset_root": str(layout.dataset_root),
            "generator": self.cfg.generator,
            "device": str(run.device),
            "classes": list(ds.classes),
            "counts_before": counts,
            "added": {c: to_add.get(c, 0) for c in ds.classes},
            "counts_after": {c: counts[c] + to_add.get(c, 0) for c in ds.classes},
            "skipped_inputs": len(ds.skipped),
            "skipped": skipped_inputs(ds.skipped, ds.root, named=not self.deidentified),
            "output_format": _output_format(ds),
            "manifest": str(layout.manifest),
            "manifest_rows": len(rows),
            "report": str(layout.report),
            "checkpoints": {c: str(r.checkpoint) for c, r in run.fitted.items()},
            "resumed": run.resumed,
            "started": state.started,
            "finished": state.finished,
            "seconds": run.timings.to_dict(),
            "warnings": run.warnings,
            "audit": audit["summary"] if audit else None,
            "generator_epochs": {
                unit: info["epochs"] for unit, info in state.classes.items() if "epochs" in info
            },
        }
        if "study_uid" in state.summary:
            summary["study_uid"] = state.summary["study_uid"]
        notes = [f"warning: {w}" for w in run.warnings]
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
            audit=audit["markdown"] if audit else None,
        )
        state.summary = summary
        state.save(layout.root)
        return summary


def _copies(screen: Any, images: torch.Tensor) -> list[bool]:
    """Which of ``images`` the memorization screen flags as near-copies."""
    return [m.flagged for m in screen.screen(images).nearest]


def _audit_figures(report: Any) -> dict[str, Any]:
    """The audit's figures per class, for the ``--json`` summary."""
    data = report.to_json()
    return {"extractor": data["extractor"], "classes": data["classes"]}


def _output_format(ds: ImageDataset) -> str:
    return "dicom" if ds.source_format == "dicom" else "png"


__all__ = ["BalanceResult", "BalanceRun", "balance", "real_names"]
