"""Balancing a dataset with generators: strategies, training, writing, provenance.

Library use mirrors the command line::

    from medaug.balancing import BalanceConfig, balance, generate, resolve_targets

    resolve_targets({"NORMAL": 1349, "PNEUMONIA": 3883}, count=400)   # {'NORMAL': 400}
    result = balance(BalanceConfig(data="chest_xray/train", out="balanced", count=400))
    result.summary["counts_after"]                                    # {'NORMAL': 1749, ...}
    generate("balanced/checkpoints/NORMAL.pt", 100, "more", seed=1)
"""

from __future__ import annotations

from medaug.balancing.checkpoint import CheckpointInfo, build_generator, load_checkpoint
from medaug.balancing.generate import GenerateResult, generate
from medaug.balancing.manifest import ManifestRow, read_manifest
from medaug.balancing.run import BalanceConfig, BalanceResult, balance, sample_data_path
from medaug.balancing.strategy import parse_strategy, resolve_targets

__all__ = [
    "BalanceConfig",
    "BalanceResult",
    "CheckpointInfo",
    "GenerateResult",
    "ManifestRow",
    "balance",
    "build_generator",
    "generate",
    "load_checkpoint",
    "parse_strategy",
    "read_manifest",
    "resolve_targets",
    "sample_data_path",
]
