"""One named contract check, and the assertion helper the checks use."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    """A contract check of one registered plugin, ready to run: ``check()``.

    Raises :class:`AssertionError` when the plugin breaks the contract and
    :class:`unittest.SkipTest` (a skip under pytest) when the check does not apply.
    """

    kind: str
    name: str
    check: str
    run: Callable[[], None]

    @property
    def id(self) -> str:
        """``dcgan-sample_shape_range_and_finite``: the pytest id."""
        return f"{self.name}-{self.check}"

    def __call__(self) -> None:
        self.run()

    def __repr__(self) -> str:
        return f"Check({self.kind} {self.name!r}: {self.check})"


def expect(condition: object, message: str) -> None:
    """Raise :class:`AssertionError` with ``message`` unless ``condition`` holds (not an
    ``assert`` statement: checks must also fail under ``python -O``)."""
    if not condition:
        raise AssertionError(message)


def expect_raises(
    error: type[BaseException], build: Callable[[], object], what: str
) -> BaseException:
    """Run ``build`` and return the ``error`` it raised; fail when it raises nothing or
    something else."""
    try:
        build()
    except error as exc:
        return exc
    except Exception as exc:
        raise AssertionError(
            f"{what}: expected {error.__name__}, got {type(exc).__name__}: {exc}"
        ) from exc
    raise AssertionError(f"{what}: expected {error.__name__}, nothing was raised")
