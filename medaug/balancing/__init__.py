"""Balancing a dataset with generators: strategies, fitting, writing, provenance.

Library use mirrors the command line::

    from medaug.balancing import BalanceConfig, balance, generate, resolve_targets

    resolve_targets({"NORMAL": 1349, "PNEUMONIA": 3883}, count=400)   # {'NORMAL': 400}
    result = balance(BalanceConfig(data="chest_xray/train", out="balanced", count=400))
    result.summary.counts_after                                       # {'NORMAL': 1749, ...}
    result.summary.to_dict()                  # what --json prints (also result.summary[key])
    result.dataset_root                       # balanced/dataset: class folders only
    generate("balanced/checkpoints/NORMAL.pt", 100, "more", seed=1)

- :mod:`~medaug.balancing.config`: :class:`BalanceConfig` and the defaults;
- :mod:`~medaug.output.layout`: :class:`OutputLayout`, every path of an output folder
  (with the manifest, run state and strategy, it lives in :mod:`medaug.output`);
- :mod:`~medaug.balancing.run`: :class:`BalanceRun`, the engine behind :func:`balance`;
- :mod:`~medaug.balancing.summary`: :class:`BalanceSummary`, what a run reports (typed;
  its mapping view is the ``--json`` output);
- :mod:`medaug.generation`: settings, fitting (:class:`GeneratorFitter`, the one place
  generators are trained: per class or conditional, checkpointed, resumable),
  checkpoints and deterministic sampling, below both this package and the experiments;
- :mod:`~medaug.balancing.generation`: more images from checkpoints (``medaug generate``).

The package imports its modules lazily, so ``medaug --help`` does not pay for torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from medaug.lazy import lazy_exports

#: name -> its module: in this package, or a full name (what balancing writes lives in
#: :mod:`medaug.output`; how generators are trained, in :mod:`medaug.generation`)
_EXPORTS: dict[str, str] = {
    "BalanceConfig": "config",
    "BalanceResult": "run",
    "BalanceRun": "run",
    "BalanceSummary": "summary",
    "CheckpointInfo": "medaug.generation.checkpoint",
    "GenerateResult": "generation",
    "GeneratorFitter": "medaug.generation.fitting",
    "GeneratorSpec": "medaug.generation.fitting",
    "ManifestRow": "medaug.output.manifest",
    "OutputLayout": "medaug.output.layout",
    "Timings": "timings",
    "balance": "run",
    "build_generator": "medaug.generation.checkpoint",
    "generate": "generation",
    "load_checkpoint": "medaug.generation.checkpoint",
    "parse_strategy": "medaug.output.strategy",
    "read_manifest": "medaug.output.manifest",
    "resolve_targets": "medaug.output.strategy",
    "sample_data_path": "config",
    "sample_images": "medaug.generation.sampling",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_exports(__name__, _EXPORTS, globals())


if TYPE_CHECKING:
    from medaug.balancing.config import BalanceConfig as BalanceConfig
    from medaug.balancing.config import sample_data_path as sample_data_path
    from medaug.balancing.generation import GenerateResult as GenerateResult
    from medaug.balancing.generation import generate as generate
    from medaug.balancing.run import BalanceResult as BalanceResult
    from medaug.balancing.run import BalanceRun as BalanceRun
    from medaug.balancing.run import balance as balance
    from medaug.balancing.summary import BalanceSummary as BalanceSummary
    from medaug.balancing.timings import Timings as Timings
    from medaug.generation.checkpoint import CheckpointInfo as CheckpointInfo
    from medaug.generation.checkpoint import build_generator as build_generator
    from medaug.generation.checkpoint import load_checkpoint as load_checkpoint
    from medaug.generation.fitting import GeneratorFitter as GeneratorFitter
    from medaug.generation.fitting import GeneratorSpec as GeneratorSpec
    from medaug.generation.sampling import sample_images as sample_images
    from medaug.output.layout import OutputLayout as OutputLayout
    from medaug.output.manifest import ManifestRow as ManifestRow
    from medaug.output.manifest import read_manifest as read_manifest
    from medaug.output.strategy import parse_strategy as parse_strategy
    from medaug.output.strategy import resolve_targets as resolve_targets
