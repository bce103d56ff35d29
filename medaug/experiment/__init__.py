"""Does synthetic data help? The baseline / gan / classic experiment over several seeds.

- :mod:`~medaug.experiment.config`: :class:`ExperimentConfig` and its fingerprint;
- :mod:`~medaug.experiment.arms`: how each arm's training set is built;
- :mod:`~medaug.experiment.runner`: :func:`run_experiment` (resumable);
- :mod:`~medaug.experiment.stats`: mean ± std, paired differences with t intervals;
- :mod:`~medaug.experiment.report`: ``report.md`` and the terminal table.
"""

from medaug.experiment.config import ARMS, ExperimentConfig
from medaug.experiment.runner import run_experiment
from medaug.experiment.stats import compare, describe, paired_difference, sentence, summarize

__all__ = [
    "ARMS",
    "ExperimentConfig",
    "compare",
    "describe",
    "paired_difference",
    "run_experiment",
    "sentence",
    "summarize",
]
