"""How many synthetic images each class gets: imbalanced-learn's ``sampling_strategy``.

The meanings follow imbalanced-learn's over-samplers (``RandomOverSampler``...):

- ``"auto"`` (the default) = ``"not majority"``: every class but the majority;
- ``"minority"``: only the minority class;
- ``"not minority"``: every class but the minority;
- ``"all"``: every class;
  each selected class is brought up to the majority count;
- a float ``r`` (two classes only): the minority is brought to ``r * n_majority``;
- ``"CLASS=N,..."`` (or a mapping): the named classes are brought to ``N`` images in total.

``count=N`` instead adds exactly ``N`` images to each class selected by a *named*
strategy (the paper adds 400 Normal images). Ties are broken as imbalanced-learn does:
the first class (in sorted order) with the extreme count is the minority / majority.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from medaug import limits
from medaug.errors import ConfigError, MedaugError

NAMED_STRATEGIES = ("auto", "minority", "not minority", "not majority", "all")
STRATEGY_HELP = (
    "auto (= not majority), minority, not minority, not majority, all, a float ratio "
    "(two classes), or CLASS=N,... target counts"
)

Strategy = str | float | Mapping[str, int]


def _normalise_name(text: str) -> str:
    return " ".join(text.strip().lower().replace("-", " ").replace("_", " ").split())


def parse_strategy(strategy: Strategy | None) -> str | float | dict[str, int]:
    """Turn a user's ``--strategy`` text into a named strategy, a float or a target mapping."""
    if strategy is None:
        return "auto"
    if isinstance(strategy, bool):
        raise MedaugError(f"invalid strategy {strategy!r}: expected {STRATEGY_HELP}")
    if isinstance(strategy, int | float):
        return float(strategy)
    if isinstance(strategy, Mapping):
        return {str(k): _target_count(k, v) for k, v in strategy.items()}
    text = str(strategy).strip()
    if not text:
        raise MedaugError(f"empty strategy: expected {STRATEGY_HELP}")
    name = _normalise_name(text)
    if name in NAMED_STRATEGIES:
        return name
    if "=" in text:
        targets: dict[str, int] = {}
        for part in text.split(","):
            if not part.strip():
                continue
            cls, sep, raw = part.partition("=")
            cls = cls.strip()
            if not sep or not cls:
                raise MedaugError(f"invalid strategy part {part.strip()!r}: expected CLASS=N")
            if cls in targets:
                raise MedaugError(f"strategy names class {cls!r} twice")
            targets[cls] = _target_count(cls, raw.strip())
        if not targets:
            raise MedaugError(f"invalid strategy {text!r}: expected CLASS=N,...")
        return targets
    try:
        return float(text)
    except ValueError:
        raise MedaugError(f"invalid strategy {text!r}: expected {STRATEGY_HELP}") from None


def check_strategy(strategy: Strategy | None) -> None:
    """Raise one :class:`MedaugError` naming the ``strategy`` setting when it cannot be
    parsed (configs call this when they are built)."""
    try:
        parse_strategy(strategy)
    except MedaugError as exc:
        raise MedaugError(f"strategy: {exc}") from None


def _target_count(cls: object, raw: object) -> int:
    try:
        value = int(str(raw))
    except ValueError:
        raise MedaugError(
            f"target count for class {cls!r} must be an integer, got {raw!r}"
        ) from None
    if value < 0:
        raise MedaugError(f"target count for class {cls!r} must be >= 0, got {value}")
    return limits.images_per_class(value, f"target count for class {cls!r}")


def _check_counts(counts: Mapping[str, int]) -> dict[str, int]:
    if len(counts) < 2:
        raise MedaugError(
            f"balancing needs at least two classes, got {len(counts)}"
            + (f" ({', '.join(counts)})" if counts else "")
        )
    out: dict[str, int] = {}
    for cls in sorted(counts):
        n = counts[cls]
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise MedaugError(f"class {cls!r} has an invalid image count {n!r}")
        out[cls] = n
    return out


def _select(counts: dict[str, int], name: str) -> list[str]:
    minority = min(counts, key=counts.__getitem__)
    majority = max(counts, key=counts.__getitem__)
    if name in ("auto", "not majority"):
        return [c for c in counts if c != majority]
    if name == "minority":
        return [minority]
    if name == "not minority":
        return [c for c in counts if c != minority]
    return list(counts)  # all


def resolve_targets(
    counts: Mapping[str, int],
    strategy: Strategy | None = None,
    count: int | None = None,
) -> dict[str, int]:
    """Number of synthetic images to ADD per class; only classes that get some are listed.

    >>> resolve_targets({"NORMAL": 1349, "PNEUMONIA": 3883})
    {'NORMAL': 2534}
    >>> resolve_targets({"NORMAL": 1349, "PNEUMONIA": 3883}, count=400)
    {'NORMAL': 400}
    >>> resolve_targets({"a": 10, "b": 40}, 0.5)
    {'a': 10}
    >>> resolve_targets({"a": 10, "b": 40, "c": 20}, "a=30,c=25")
    {'a': 20, 'c': 5}

    Raises :class:`medaug.MedaugError` for fewer than two classes, an unknown strategy, a
    float ratio with more than two classes or one that would remove images, a target below
    the current count, an unknown class, ``count`` combined with a ratio or mapping, or a
    selected class without any image to learn from.
    """
    counts = _check_counts(counts)
    parsed = parse_strategy(strategy)
    if count is not None:
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ConfigError(f"{{count}} must be a positive integer, got {count!r}", "count")
        limits.images_per_class(count, "--count")
        if not isinstance(parsed, str):
            raise MedaugError(
                "--count adds N images to each class chosen by a named strategy "
                f"({', '.join(NAMED_STRATEGIES)}); it cannot be combined with a ratio or "
                "CLASS=N targets"
            )
        to_add = {c: count for c in _select(counts, parsed)}
    elif isinstance(parsed, str):
        n_max = max(counts.values())
        to_add = {c: n_max - counts[c] for c in _select(counts, parsed)}
    elif isinstance(parsed, float):
        to_add = _ratio_targets(counts, parsed)
    else:
        to_add = _mapping_targets(counts, parsed)
    result = {c: n for c, n in to_add.items() if n > 0}
    for cls, n in result.items():
        limits.images_per_class(n, f"the number of images to add to class {cls!r}")
    empty = [c for c in result if counts[c] == 0]
    if empty:
        raise MedaugError(f"class {empty[0]!r} has no images: a generator cannot learn it")
    return result


#: the default cap on the share of generated images in a grown class: at most as many
#: generated as real images (chosen by the rare-class benchmark, docs/results.md: filled
#: up to the majority, the generated images cost 8-10 points of balanced accuracy at 50
#: and 100 real images; capped at half, with the balanced sampler, none)
DEFAULT_SHARE_CAP = 0.5


def check_share(share: float | None) -> None:
    """A cap on the synthetic share of a class: ``None`` (no cap) or a fraction in (0, 1)."""
    if share is None:
        return
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 < share < 1:
        raise ConfigError(
            f"{{max_synthetic_share}} must be a fraction in (0, 1), got {share!r}",
            "max_synthetic_share",
        )


def cap_share(
    counts: Mapping[str, int], to_add: Mapping[str, int], share: float | None
) -> dict[str, int]:
    """``to_add`` with each class's synthetic share capped at ``share``: at most
    ``floor(real * share / (1 - share))`` images added to a class of ``real`` images
    (``share=0.5``: no more synthetic than real images). Classes left with nothing to add
    are dropped; ``share=None`` leaves ``to_add`` as it is."""
    check_share(share)
    if share is None:
        return dict(to_add)
    capped = {
        c: min(n, math.floor(counts[c] * share / (1 - share) + 1e-9)) for c, n in to_add.items()
    }
    return {c: n for c, n in capped.items() if n > 0}


def _ratio_targets(counts: dict[str, int], ratio: float) -> dict[str, int]:
    if len(counts) != 2:
        raise MedaugError(
            f"a float strategy is a minority/majority ratio for two classes; this dataset "
            f"has {len(counts)} ({', '.join(counts)}): use CLASS=N,... instead"
        )
    if not math.isfinite(ratio) or not 0.0 < ratio <= 1.0:
        raise MedaugError(f"a float strategy must be in (0, 1], got {ratio}")
    majority = max(counts, key=counts.__getitem__)
    minority = next(c for c in counts if c != majority)
    target = int(counts[majority] * ratio)
    if target < counts[minority]:
        raise MedaugError(
            f"ratio {ratio} means {target} {minority!r} images but there are already "
            f"{counts[minority]}: balancing only adds images, increase the ratio"
        )
    return {minority: target - counts[minority]}


def _mapping_targets(counts: dict[str, int], targets: Mapping[str, int]) -> dict[str, int]:
    unknown = [c for c in targets if c not in counts]
    if unknown:
        raise MedaugError(
            f"strategy names unknown class {unknown[0]!r}; classes: {', '.join(counts)}"
        )
    out: dict[str, int] = {}
    for cls in sorted(targets):
        if targets[cls] < counts[cls]:
            raise MedaugError(
                f"target {targets[cls]} for class {cls!r} is below its {counts[cls]} real "
                "images: balancing only adds images"
            )
        out[cls] = targets[cls] - counts[cls]
    return out
