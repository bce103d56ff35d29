"""resolve_targets: imbalanced-learn meanings of sampling_strategy, plus --count."""

from __future__ import annotations

import pytest

from medaug import MedaugError
from medaug.output.strategy import parse_strategy, resolve_targets

TWO = {"NORMAL": 1349, "PNEUMONIA": 3883}
THREE = {"a": 10, "b": 40, "c": 20}


@pytest.mark.parametrize(
    ("counts", "strategy", "count", "expected"),
    [
        (TWO, None, None, {"NORMAL": 2534}),
        (TWO, "auto", None, {"NORMAL": 2534}),
        (TWO, None, 400, {"NORMAL": 400}),
        (TWO, "all", 400, {"NORMAL": 400, "PNEUMONIA": 400}),
        (THREE, "auto", None, {"a": 30, "c": 20}),
        (THREE, "not majority", None, {"a": 30, "c": 20}),
        (THREE, "not-majority", None, {"a": 30, "c": 20}),
        (THREE, "minority", None, {"a": 30}),
        (THREE, "not minority", None, {"c": 20}),
        (THREE, "all", None, {"a": 30, "c": 20}),
        (THREE, "all", 5, {"a": 5, "b": 5, "c": 5}),
        (THREE, "minority", 7, {"a": 7}),
        (THREE, "not minority", 3, {"b": 3, "c": 3}),
        ({"a": 10, "b": 40}, 0.5, None, {"a": 10}),
        ({"a": 10, "b": 40}, "0.25", None, {}),
        ({"a": 10, "b": 40}, "1.0", None, {"a": 30}),
        (THREE, "a=30,c=25", None, {"a": 20, "c": 5}),
        (THREE, {"b": 45}, None, {"b": 5}),
        (THREE, "a=10", None, {}),
        ({"x": 5, "y": 5}, "auto", None, {}),
    ],
)
def test_resolve_targets(counts, strategy, count, expected) -> None:
    assert resolve_targets(counts, strategy, count) == expected


def test_balanced_totals_for_named_strategies() -> None:
    for strategy in ("auto", "minority", "not minority", "all"):
        add = resolve_targets(THREE, strategy)
        for cls, n in add.items():
            assert THREE[cls] + n == 40


@pytest.mark.parametrize(
    ("counts", "strategy", "count", "match"),
    [
        ({"a": 3}, None, None, "at least two classes"),
        ({}, None, None, "at least two classes"),
        (THREE, "most", None, "invalid strategy"),
        (THREE, "0.5", None, "two classes"),
        ({"a": 10, "b": 40}, "0.1", None, "increase the ratio"),
        ({"a": 10, "b": 40}, "1.5", None, r"\(0, 1\]"),
        ({"a": 10, "b": 40}, "nan", None, r"\(0, 1\]"),
        (THREE, "a=5", None, "below"),
        (THREE, "zzz=5", None, "unknown class"),
        (THREE, "a=x", None, "integer"),
        (THREE, "a=-1", None, ">= 0"),
        (THREE, "a=20,a=30", None, "twice"),
        (THREE, "a=30", 5, "cannot be combined"),
        (THREE, "auto", 0, "positive"),
        ({"a": 0, "b": 4}, "auto", None, "no images"),
        ({"a": -1, "b": 4}, "auto", None, "invalid image count"),
    ],
)
def test_bad_input_is_a_medaug_error(counts, strategy, count, match) -> None:
    with pytest.raises(MedaugError, match=match):
        resolve_targets(counts, strategy, count)


def test_parse_strategy_forms() -> None:
    assert parse_strategy(None) == "auto"
    assert parse_strategy(" Not_Minority ") == "not minority"
    assert parse_strategy("0.75") == 0.75
    assert parse_strategy("A=3, B=4") == {"A": 3, "B": 4}
    with pytest.raises(MedaugError):
        parse_strategy("")
