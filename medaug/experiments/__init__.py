"""Does synthetic data help? The baseline / gan / classic experiment over several seeds.

- :mod:`~medaug.experiments.config`: :class:`ExperimentConfig` and its fingerprint;
- :mod:`~medaug.experiments.resample`: each arm as a resampler (``fit_resample``), chosen
  from the :data:`~medaug.experiments.resample.RESAMPLERS` table;
- :mod:`~medaug.experiments.runner`: :func:`run_experiment` (resumable);
- :mod:`~medaug.experiments.stats`: mean ± std over seeds, paired differences with t
  intervals (training noise);
- :mod:`~medaug.experiments.testset`: paired bootstrap over test images and McNemar's
  test per seed (test-set noise);
- :mod:`~medaug.experiments.report`: ``report.md`` and the terminal summary.

The package imports its modules lazily, so ``medaug --help`` does not pay for torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from medaug.lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "ARMS": "config",
    "BootstrapSettings": "testset",
    "ExperimentConfig": "config",
    "RESAMPLERS": "resample",
    "Resampler": "resample",
    "compare": "stats",
    "describe": "stats",
    "paired_difference": "stats",
    "run_experiment": "runner",
    "sentence": "stats",
    "summarize": "stats",
    "test_set_comparisons": "testset",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_exports(__name__, _EXPORTS, globals())


if TYPE_CHECKING:
    from medaug.experiments.config import ARMS as ARMS
    from medaug.experiments.config import ExperimentConfig as ExperimentConfig
    from medaug.experiments.resample import RESAMPLERS as RESAMPLERS
    from medaug.experiments.resample import Resampler as Resampler
    from medaug.experiments.runner import run_experiment as run_experiment
    from medaug.experiments.stats import compare as compare
    from medaug.experiments.stats import describe as describe
    from medaug.experiments.stats import paired_difference as paired_difference
    from medaug.experiments.stats import sentence as sentence
    from medaug.experiments.stats import summarize as summarize
    from medaug.experiments.testset import BootstrapSettings as BootstrapSettings
    from medaug.experiments.testset import test_set_comparisons as test_set_comparisons
