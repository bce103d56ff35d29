"""``medaug --help``, ``--version`` and ``plugins`` start without torch; ``import medaug``
is lazy and its public names resolve to the library functions."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import medaug

HEAVY = ("torch", "sklearn", "albumentations", "timm", "matplotlib")

PROBE = """
import json, sys
from medaug.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
sys.stdout.flush()
print("\\n" + json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)), file=sys.stderr)
"""


def _heavy_imports(*args: str) -> tuple[str, list[str]]:
    """What ``medaug ARGS`` printed, and which heavy modules it imported."""
    proc = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    loaded: list[str] = json.loads(proc.stderr.strip().splitlines()[-1])
    return proc.stdout, loaded


@pytest.mark.parametrize(
    ("args", "printed"),
    [
        (["--help"], "Run 'medaug COMMAND --help'"),
        (["--version"], "medaug, version"),
        (["plugins"], "simple-cnn"),
        (["plugins", "--json"], '"name": "dcgan"'),
    ],
)
def test_cli_starts_without_torch(args: list[str], printed: str) -> None:
    out, loaded = _heavy_imports(*args)
    assert printed in out
    assert loaded == []


def test_import_medaug_is_lazy() -> None:
    code = f"import sys, medaug; print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip() == "[]"


def test_python_dash_m_medaug() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "medaug", "--version"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert out.stdout.strip() == f"medaug, version {medaug.__version__}"


def test_public_names_resolve_to_the_library() -> None:
    from medaug.auditing import audit
    from medaug.balancing import BalanceConfig, balance
    from medaug.data import DataOptions, load_dataset
    from medaug.experiments import ExperimentConfig, run_experiment
    from medaug.runtime import resolve_device, seed_everything
    from medaug.training import evaluate, train

    expected = {
        "balance": balance,
        "BalanceConfig": BalanceConfig,
        "train": train,
        "evaluate": evaluate,
        "experiment": run_experiment,
        "ExperimentConfig": ExperimentConfig,
        "audit": audit,
        "load_dataset": load_dataset,
        "DataOptions": DataOptions,
        "resolve_device": resolve_device,
        "seed_everything": seed_everything,
    }
    for name, obj in expected.items():
        assert getattr(medaug, name) is obj, name
        assert vars(medaug)[name] is obj, f"{name} is not cached in the module"
    for name in medaug.__all__:
        assert getattr(medaug, name) is not None
    assert set(medaug.__all__) <= set(dir(medaug))
    assert callable(medaug.registry)  # the function, not the medaug.registry module


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        medaug.no_such_name  # type: ignore[attr-defined]  # noqa: B018
