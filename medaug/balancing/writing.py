"""Writing the balanced dataset: the real files linked (or copied) into OUT, and each
grown class's synthetic images sampled into it, with their manifest rows."""

from __future__ import annotations

from medaug._version import __version__
from medaug.balancing.config import BalanceConfig
from medaug.balancing.curation import curate_class
from medaug.balancing.files import link_file
from medaug.balancing.session import Session
from medaug.generation.fitting import TrainResult
from medaug.generation.progress import Reporter
from medaug.generation.sampling import SampleJob, sample_to_files
from medaug.generation.writer import Series, new_uid
from medaug.output.layout import OutputLayout
from medaug.output.manifest import ManifestRow


def link_reals(cfg: BalanceConfig, layout: OutputLayout, run: Session) -> list[ManifestRow]:
    """Put every real input file in OUT (by ``cfg.link``); their manifest rows."""
    rows: list[ManifestRow] = []
    for cls, names in run.outputs.items():
        for src, rel in names.items():
            dst = layout.root / rel
            if not dst.exists():
                link_file(src, dst, cfg.link)
            rows.append(
                ManifestRow(
                    path=rel,
                    label=cls,
                    source="real",
                    original_path="" if cfg.deidentified else str(src),
                    medaug_version=__version__,
                    created=run.state.started,
                )
            )
    return rows


def sample_class(
    cfg: BalanceConfig,
    layout: OutputLayout,
    run: Session,
    unit: tuple[str, TrainResult],
    reporter: Reporter,
) -> list[ManifestRow]:
    """Write class ``unit[0]``'s synthetic images from its fitted generator ``unit[1]``
    (a DICOM series keeps the UIDs its run state recorded); their manifest rows. With a
    filter (``cfg.curation``) only the kept images are written, and the class grows by
    as many (``run.to_add``)."""
    cls, result = unit
    curation = curate_class(cfg, run, unit, reporter)
    if curation is not None:
        run.to_add[cls] = curation.kept
        run.state.save(layout.root)  # a resumed run keeps the same images
    ds, state, n = run.ds, run.state, run.to_add[cls]
    cls_state = state.class_state(cls)
    series = None
    if result.info.output_format == "dicom":
        if "study_uid" not in state.summary:
            state.summary["study_uid"] = new_uid()
        cls_state.setdefault("series_uid", new_uid())
        state.save(layout.root)
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
        seed=cfg.seed,
        out_dir=layout.class_dir(run.folders[cls]),
        root=layout.root,
        generator_name=cfg.generator,
        generator_options=result.info.generator_options,
        checkpoint_sha256=result.sha256,
        output_format=result.info.output_format,
        bit_depth=result.info.bit_depth,
        series=series,
        stream=curation.stream if curation else (),
        drawn=curation.drawn if curation else 0,
        curation=cfg.curation.label(reject_memorized=cfg.reject_memorized) if curation else "",
    )
    run.jobs[cls] = job
    reporter.sampling(cls, n)
    rows = sample_to_files(result.generator, job, on_written=lambda k: reporter.sampled(cls, k))
    cls_state.update(sampled=n)
    return rows


__all__ = ["link_reals", "sample_class"]
