"""``medaug generate`` on the tier's device, and generator checkpoints that move between
devices: trained on the device and sampled on the CPU, and the reverse."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.balance.balance_helpers import manifest, run_json
from tests.gpu.gpu_helpers import (
    SIZE,
    TINY_DCGAN,
    TINY_DDPM,
    balance_args,
    check_balance,
    check_generator,
    check_images,
    computes_on,
    pixels,
    synthetic_files,
)

pytestmark = pytest.mark.slow

COUNTS = {"NORMAL": 6, "PNEUMONIA": 12}
TINY = {"dcgan": ("--generator", "dcgan", *TINY_DCGAN), "ddpm": ("--generator", "ddpm", *TINY_DDPM)}


def _generate(checkpoint: Path, out: Path, device: str, n: int) -> dict[str, object]:
    args = ["generate", "--checkpoint", str(checkpoint), "-n", str(n), "--out", str(out)]
    return run_json([*args, "--seed", "0", "--device", device])


@pytest.mark.parametrize("generator", ["dcgan", "ddpm"])
def test_generate_on_the_device_reproduces_the_balance_images(
    generator: str, gpu_device: str, image_folder: Callable[..., Path], tmp_path: Path
) -> None:
    data = image_folder(COUNTS, size=SIZE)
    out, more = tmp_path / "out", tmp_path / "more"
    summary = run_json(balance_args(data, out, gpu_device, *TINY[generator]))
    check_balance(summary, out, gpu_device)
    with computes_on(gpu_device):
        report = _generate(out / "checkpoints", more, gpu_device, n=6)
    assert report["written"] == {"NORMAL": 6}
    files = synthetic_files(more, "NORMAL")
    check_images(files)
    rows = manifest(more)
    assert len(rows) == 6 and {r["generator"] for r in rows} == {generator}
    # the checkpoint and seed of a balance run reproduce its images
    assert pixels(files) == pixels(synthetic_files(out, "NORMAL"))


@pytest.mark.parametrize("generator", ["dcgan", "ddpm"])
@pytest.mark.parametrize("direction", ["device-to-cpu", "cpu-to-device"])
def test_a_generator_checkpoint_moves_between_devices(
    direction: str,
    generator: str,
    gpu_device: str,
    image_folder: Callable[..., Path],
    tmp_path: Path,
) -> None:
    trained_on, used_on = (
        (gpu_device, "cpu") if direction == "device-to-cpu" else ("cpu", gpu_device)
    )
    data = image_folder(COUNTS, size=SIZE)
    out, more = tmp_path / "out", tmp_path / "more"
    with computes_on(trained_on):
        summary = run_json(balance_args(data, out, trained_on, *TINY[generator]))
    check_balance(summary, out, trained_on)
    checkpoint = out / "checkpoints" / "NORMAL.pt"
    with computes_on(used_on):
        report = _generate(checkpoint, more, used_on, n=5)
    assert report["written"] == {"NORMAL": 5}
    check_images(synthetic_files(more, "NORMAL"))
    assert len(manifest(more)) == 5
    check_generator(checkpoint, used_on)
