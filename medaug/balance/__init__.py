"""Balancing a dataset with a generator: strategies, training, writing, provenance."""

from __future__ import annotations

from medaug.balance.strategy import parse_strategy, resolve_targets

__all__ = ["parse_strategy", "resolve_targets"]
