"""Run the experiment: every arm x seed, resumable, then aggregate and report.

Layout of ``OUT``::

    experiment.json              settings + fingerprint (guards resumption)
    generators/seed<S>/<UNIT>.pt generator checkpoints of seed S (per class, or
                                 all-classes.pt for a conditional generator) + grids
    runs/seed<S>/<ARM>/          model.pt, result.json, history.json, curves.png,
                                 test_roc.png, test_confusion.png, augment.json
    results.json  report.md  metrics_by_arm.png

A run whose ``result.json`` exists is never recomputed; a generator whose checkpoint is
complete is not retrained, and a partial one resumes from its last epoch.
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch

from medaug import distributed as dist
from medaug._version import __version__
from medaug.atomic import atomic_write_json
from medaug.errors import MedaugError
from medaug.experiments.config import ExperimentConfig
from medaug.experiments.report import fmt_value, write_report
from medaug.experiments.resample import RESAMPLERS, ArmContext
from medaug.experiments.stats import compare, sentence, summarize
from medaug.experiments.testset import test_set_comparisons, test_set_sentences
from medaug.experiments.verdict import verdict
from medaug.output import admit, claim_output
from medaug.plugins import registry
from medaug.runtime import resolve_device
from medaug.training.augment import load_pipeline
from medaug.training.data import RunData, TensorData, align_classes, from_dataset
from medaug.training.metrics import METRIC_NAMES, resolve_positive_class
from medaug.training.parallel import Placement
from medaug.training.plots import plot_arms
from medaug.training.progress import epoch_line
from medaug.training.spec import ModelSpec, Recipe
from medaug.training.step import fit_and_evaluate

Log = Callable[[str], None]
RESULTS_FORMAT = "medaug-experiment/1"


def _guard(out: Path, cfg: ExperimentConfig) -> None:
    """Refuse to mix runs of different settings in one folder."""
    manifest = out / "experiment.json"
    fp = cfg.fingerprint()
    if manifest.is_file():
        old = json.loads(manifest.read_text())
        if old.get("fingerprint") != fp:
            raise MedaugError(
                f"{out} holds an experiment with other settings (fingerprint "
                f"{old.get('fingerprint')} != {fp}); use a new --out folder"
            )


def _record_settings(out: Path, cfg: ExperimentConfig) -> None:
    """``experiment.json``: written once the data is read (a run refused before that
    leaves nothing behind)."""
    atomic_write_json(
        out / "experiment.json", {"fingerprint": cfg.fingerprint(), "settings": cfg.to_dict()}
    )


def versions(cfg: ExperimentConfig) -> dict[str, Any]:
    """Library and plugin versions recorded with the results."""
    import albumentations
    import numpy
    import sklearn
    import torchvision

    out: dict[str, Any] = {
        "medaug": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "albumentations": albumentations.__version__,
        "scikit-learn": sklearn.__version__,
        "numpy": numpy.__version__,
        "platform": platform.platform(),
    }
    try:
        import timm

        out["timm"] = timm.__version__
    except ImportError:  # pragma: no cover
        pass
    for kind, name in (("classifier", cfg.classifier), ("generator", cfg.generator)):
        if name and (kind != "generator" or cfg.generative):
            entry = registry(kind).get(name)
            out[f"{kind}_plugin"] = {"name": name, "plugin": entry.plugin, "version": entry.version}
    return out


def run_experiment(
    cfg: ExperimentConfig, *, log: Log = lambda _m: None, progress: bool = False
) -> dict[str, Any]:
    """Train every arm for every seed (skipping finished runs); return ``results.json`` data.
    ``cfg.out`` is claimed (:func:`~medaug.output.claim_output`) for the whole experiment."""
    inputs = [cfg.train, cfg.test, *([cfg.options.labels] if cfg.options.labels else [])]
    with claim_output(
        cfg.out,
        command="experiment",
        inputs=inputs,
        rerun="run the same command again (finished runs are kept)",
    ):
        return ExperimentRun(cfg, log=log, progress=progress).run()


class ExperimentRun:
    """One experiment: its data, classifier, augmentation and test set, shared by every
    arm and seed; :meth:`run` does the missing runs and writes the results."""

    def __init__(
        self, cfg: ExperimentConfig, *, log: Log = lambda _m: None, progress: bool = False
    ) -> None:
        from medaug.data import load_dataset

        self.started = time.perf_counter()
        self.cfg, self.log = cfg, log
        self.device = resolve_device(cfg.device)
        self.out = Path(cfg.out).expanduser().resolve()
        if Path(cfg.train).resolve() == Path(cfg.test).resolve():
            raise MedaugError(
                "--train and --test are the same folder; the test set must be separate"
            )
        _guard(self.out, cfg)
        with dist.main_first():  # under torchrun: decode into the cache once per machine
            self.ds = load_dataset(
                cfg.train,
                image_size=cfg.image_size,
                channels=cfg.channels,
                progress=progress,
                options=cfg.options,
            )
            test_ds = load_dataset(
                cfg.test,
                image_size=cfg.image_size,
                channels=self.ds.channels,
                progress=progress,
                options=cfg.options,
            )
        self.test = align_classes(from_dataset(test_ds), self.ds.classes)
        self.classes = list(self.ds.classes)
        self.positive = resolve_positive_class(self.classes, cfg.positive_class)
        self.pipeline = load_pipeline(cfg.augment)
        self.spec = ModelSpec(cfg.classifier, dict(cfg.classifier_options), cfg.pretrained)
        #: undefined-metric warnings, each logged once
        self.warnings: list[str] = []
        if dist.is_main():
            _record_settings(self.out, cfg)
            admit(self.out / "runs")  # other ranks write their seeds' runs there too
            if cfg.generative:
                admit(self.out / "generators")

    def run(self) -> dict[str, Any]:
        """Every arm x seed (finished ones are read back), then ``results.json``.

        Under torchrun the seeds are shared out between the ranks (seed ``i`` on rank
        ``i % world_size``; a seed's arms share its generator, so they stay together);
        rank 0 gathers the runs and writes the results."""
        from medaug.data import patient_split

        cfg, log = self.cfg, self.log
        if self.positive is not None:
            log(f"positive class: {self.classes[self.positive]} (precision/recall refer to it)")
        runs: list[dict[str, Any]] = []
        for i, seed in enumerate(cfg.seed_list):
            if i % dist.world_size() != dist.rank():
                continue
            split: tuple[TensorData, TensorData] | None = None
            for arm in cfg.arms:
                path = self.run_dir(seed, arm) / "result.json"
                if path.is_file():
                    log(f"seed {seed} {arm}: already done, reusing {path}")
                    runs.append(json.loads(path.read_text()))
                    continue
                if split is None:
                    idx = patient_split(self.ds, val_fraction=cfg.val_fraction, seed=seed)
                    split = from_dataset(self.ds, idx[0]), from_dataset(self.ds, idx[1])
                resampler = RESAMPLERS[arm](ArmContext(cfg, seed, self.device, self.out, log))
                record = self._run_arm(arm, seed, resampler.fit_resample(split[0]), split[1])
                # the synthetic images' curation and audit, next to the accuracy
                extra = {"curation": resampler.curation_result, "audit": resampler.audit_result}
                if any(v is not None for v in extra.values()):
                    record.update({k: v for k, v in extra.items() if v is not None})
                    atomic_write_json(self.run_dir(seed, arm) / "result.json", record)
                runs.append(record)
        if dist.world_size() > 1:
            order = {s: i for i, s in enumerate(cfg.seed_list)}
            gathered = [r for part in dist.all_gather_object(runs) for r in part]
            runs = sorted(gathered, key=lambda r: (order[r["seed"]], cfg.arms.index(r["arm"])))
            results = self._finish(runs) if dist.is_main() else None
            final = dist.broadcast_object(results)
            assert final is not None
            return final
        return self._finish(runs)

    def run_dir(self, seed: int, arm: str) -> Path:
        """``OUT/runs/seed<S>/<arm>``."""
        return self.out / "runs" / f"seed{seed}" / arm

    def _run_arm(self, arm: str, seed: int, train: TensorData, val: TensorData) -> dict[str, Any]:
        """Train one arm's classifier for one seed, evaluate it on the test set, save its
        ``result.json``; returns that record."""
        log, run_dir = self.log, self.run_dir(seed, arm)
        log(f"seed {seed} {arm}: training on {len(train)} images {train.counts()}")
        tcfg = replace(self.cfg.train_config, seed=seed)
        prefix = f"  seed {seed} {arm} "
        result = fit_and_evaluate(
            Recipe(self.spec, tcfg, self.pipeline),
            RunData(train, val, self.test, self.positive),
            placement=Placement(self.device),
            run_dir=run_dir,
            on_epoch=lambda row: log(prefix + epoch_line(row, tcfg.epochs, digits=3)),
            extra={"arm": arm, "seed": seed},
        )
        test_metrics = result.metrics
        record = {
            "arm": arm,
            "seed": seed,
            "train_counts": train.counts(),
            "added": _added(train),
            "n_train": len(train),
            "n_val": result.n_val,
            "best_epoch": result.best_epoch,
            "epochs_run": result.epochs_run,
            "stopped_early": result.stopped_early,
            "threshold": result.threshold,
            "seconds": round(result.seconds, 1),
            "val": result.val_metrics,
            "test": test_metrics,
            "predictions": result.predictions.to_dict(),
            "history": result.history,
        }
        atomic_write_json(run_dir / "result.json", record)
        self._warn_undefined(test_metrics)
        acc, prec, rec = (
            fmt_value(test_metrics[m], 4) for m in ("accuracy", "precision", "recall")
        )
        log(
            f"seed {seed} {arm}: test accuracy {acc} precision {prec} recall {rec} "
            f"({result.seconds:.0f}s, best epoch {result.best_epoch})"
        )
        return record

    def _warn_undefined(self, metrics: dict[str, Any]) -> None:
        """Log each undefined test metric once (they are null in the results, never 0)."""
        for name, reason in sorted(metrics.get("undefined", {}).items()):
            text = f"{name} is undefined on the test folder ({reason}): reported as n/a"
            if text not in self.warnings:
                self.warnings.append(text)
                self.log(f"warning: {text}")

    def _finish(self, runs: list[dict[str, Any]]) -> dict[str, Any]:
        cfg, out, classes, positive = self.cfg, self.out, self.classes, self.positive
        metrics = list(METRIC_NAMES)
        summary = summarize(runs, metrics)
        summary = {a: summary[a] for a in cfg.arms if a in summary}
        for r in runs:  # runs read back from an interrupted experiment
            self._warn_undefined(r["test"])
        comparisons = compare(runs, metrics)
        test_set = test_set_comparisons(runs, metrics, positive=positive, classes=classes)
        sentences = [
            sentence(arm, m, comparisons[arm][m])
            for arm in cfg.arms
            if arm in comparisons
            for m in ("accuracy", "precision", "recall")
        ]
        figures = {"metrics_by_arm": str(plot_arms(summary, metrics, out / "metrics_by_arm.png"))}
        results: dict[str, Any] = {
            "format": RESULTS_FORMAT,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "fingerprint": cfg.fingerprint(),
            "settings": cfg.to_dict(),
            "versions": versions(cfg),
            "device": str(self.device),
            "classes": classes,
            "positive_class": classes[positive] if positive is not None else None,
            "data": {
                "train": self.ds.counts(),
                "test": self.test.counts(),
                "image_size": cfg.image_size,
                "channels": int(self.ds.channels),
            },
            "verdict": verdict(runs, cfg.arms),
            "summary": summary,
            "comparisons": comparisons,
            "sentences": sentences,
            "test_set": test_set,
            "audits": {
                str(r["seed"]): r["audit"] for r in runs if r["arm"] == "gan" and "audit" in r
            },
            "test_set_sentences": test_set_sentences(test_set),
            "runs": [
                {k: v for k, v in r.items() if k not in ("history", "predictions")} for r in runs
            ],
            "figures": figures,
            "warnings": list(self.warnings),
            "seconds": round(time.perf_counter() - self.started, 1),
        }
        atomic_write_json(out / "results.json", results)
        write_report(results, out / "report.md")
        return results


def _added(train: TensorData) -> dict[str, int]:
    """Images per class that a resampler added (origin other than ``real``)."""
    added: dict[str, int] = {}
    for label, origin in zip(train.y.tolist(), train.origin, strict=True):
        if origin != "real":
            cls = train.classes[label]
            added[cls] = added.get(cls, 0) + 1
    return added
