"""Does synthetic data help? The baseline / gan / classic experiment over several seeds.

- :mod:`~medaug.experiments.config`: :class:`ExperimentConfig` and its fingerprint;
- :mod:`~medaug.experiments.arms`: how each arm's training set is built;
- :mod:`~medaug.experiments.runner`: :func:`run_experiment` (resumable);
- :mod:`~medaug.experiments.stats`: mean ± std, paired differences with t intervals;
- :mod:`~medaug.experiments.report`: ``report.md`` and the terminal table.
"""

from medaug.experiments.config import ARMS, ExperimentConfig
from medaug.experiments.runner import run_experiment
from medaug.experiments.stats import compare, describe, paired_difference, sentence, summarize

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
