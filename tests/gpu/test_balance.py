"""``medaug balance`` on the tier's device: each dcgan preset, the conditional dcgan,
ddpm, the audit at the end of a run, and mixed precision on and off for both generators."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.balance.balance_helpers import run_json
from tests.gpu.gpu_helpers import (
    PRECISIONS,
    SIZE,
    TINY_DCGAN,
    TINY_DDPM,
    balance_args,
    check_balance,
    computes_on,
    skip_unless_precision_runs,
)

pytestmark = pytest.mark.slow

#: one class to grow (NORMAL, by 6 images)
COUNTS = {"NORMAL": 6, "PNEUMONIA": 12}
TINY = {"dcgan": TINY_DCGAN, "ddpm": TINY_DDPM}


@pytest.mark.parametrize("preset", ["paper", "compact", "small-data"])
def test_balance_with_each_dcgan_preset(
    preset: str, gpu_device: str, image_folder: Callable[..., Path], tmp_path: Path
) -> None:
    data = image_folder(COUNTS, size=SIZE)
    out = tmp_path / "out"
    with computes_on(gpu_device):
        summary = run_json(
            balance_args(data, out, gpu_device, "-O", f"preset={preset}", *TINY_DCGAN)
        )
    assert summary["generator"] == "dcgan"
    assert summary["added"] == {"NORMAL": 6, "PNEUMONIA": 0}
    (info,) = check_balance(summary, out, gpu_device)
    assert info.generator_options["preset"] == preset
    assert (info.generator_options["ngf"], info.generator_options["ndf"]) == (8, 8)


def test_balance_with_a_compiled_dcgan(
    gpu_device: str, image_folder: Callable[..., Path], tmp_path: Path
) -> None:
    """``-O compile=true``: torch.compile (inductor) trains the networks. On an H200 it
    crashed in inductor's conv-transpose backward while the parameters were channels_last,
    which is why channels_last auto is off under compile."""
    if gpu_device == "cpu":
        pytest.skip("compiling takes about a minute on a CPU; the tier checks it on CUDA")
    data = image_folder(COUNTS, size=SIZE)
    out = tmp_path / "out"
    with computes_on(gpu_device):
        summary = run_json(balance_args(data, out, gpu_device, "-O", "compile=true", *TINY_DCGAN))
    (info,) = check_balance(summary, out, gpu_device)
    assert info.generator_options["compile"] is True


def test_balance_with_the_conditional_dcgan(
    gpu_device: str, image_folder: Callable[..., Path], tmp_path: Path
) -> None:
    data = image_folder({"a": 4, "b": 6, "c": 10}, size=SIZE)  # two classes to grow
    out = tmp_path / "out"
    with computes_on(gpu_device):
        summary = run_json(
            balance_args(data, out, gpu_device, "-O", "conditional=true", *TINY_DCGAN)
        )
    assert summary["added"] == {"a": 4, "b": 4, "c": 0}  # a: 6 asked, capped at its 4 real
    infos = check_balance(summary, out, gpu_device)
    # one model for every class grown
    assert {Path(p).name for p in summary["checkpoints"].values()} == {"all-classes.pt"}
    assert all(i.generator_options["conditional"] is True for i in infos)
    assert set(infos[0].class_names) >= {"a", "b"}


def test_balance_with_ddpm(
    gpu_device: str, image_folder: Callable[..., Path], tmp_path: Path
) -> None:
    data = image_folder(COUNTS, size=SIZE)
    out = tmp_path / "out"
    with computes_on(gpu_device):
        summary = run_json(balance_args(data, out, gpu_device, "--generator", "ddpm", *TINY_DDPM))
    assert summary["generator"] == "ddpm"
    (info,) = check_balance(summary, out, gpu_device)
    assert info.generator == "ddpm" and info.generator_options["width"] == 8


def test_balance_audits_its_images_on_the_device(
    gpu_device: str, image_folder: Callable[..., Path], tmp_path: Path
) -> None:
    # the audit needs at least 24 real and 12 synthetic images of a class
    data = image_folder({"NORMAL": 24, "PNEUMONIA": 36}, size=SIZE)
    out = tmp_path / "out"
    args = balance_args(data, out, gpu_device, *TINY_DCGAN, "--audit-option", "steps=5", audit=True)
    with computes_on(gpu_device):
        summary = run_json(args)
    check_balance(summary, out, gpu_device)
    audit = summary["audit"]
    assert audit["extractor"] == "domain"
    figures = audit["classes"]["NORMAL"]
    assert (figures["n_real"], figures["n_synthetic"]) == (24, 12)
    for key in ("fid", "kid", "precision", "recall", "c2st_auc"):
        assert math.isfinite(figures[key]), (key, figures[key])
    assert (out / "report" / "audit" / "audit.json").is_file()


@pytest.mark.parametrize("precision", PRECISIONS)
@pytest.mark.parametrize("generator", ["dcgan", "ddpm"])
def test_generator_precision(
    generator: str,
    precision: str,
    gpu_device: str,
    image_folder: Callable[..., Path],
    tmp_path: Path,
) -> None:
    """``-O precision=fp32`` (mixed precision off) and ``bf16`` (on) both train and
    sample finite images, and the checkpoint records the precision asked for."""
    skip_unless_precision_runs(precision, gpu_device)
    data = image_folder(COUNTS, size=SIZE)
    out = tmp_path / "out"
    opts = ["--generator", generator, *TINY[generator], "-O", f"precision={precision}"]
    with computes_on(gpu_device):
        summary = run_json(balance_args(data, out, gpu_device, *opts))
    (info,) = check_balance(summary, out, gpu_device)
    assert info.generator_options["precision"] == precision


@pytest.mark.parametrize("generator", ["dcgan", "ddpm"])
def test_the_old_amp_option_still_turns_mixed_precision_off(
    generator: str, gpu_device: str, image_folder: Callable[..., Path], tmp_path: Path
) -> None:
    data = image_folder(COUNTS, size=SIZE)
    out = tmp_path / "out"
    opts = ["--generator", generator, *TINY[generator], "-O", "amp=false"]
    summary = run_json(balance_args(data, out, gpu_device, *opts))
    (info,) = check_balance(summary, out, gpu_device)
    assert info.generator_options["precision"] == "fp32"
