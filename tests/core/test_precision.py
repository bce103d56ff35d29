"""The precision policy (medaug.precision) and device-safe seeded draws (medaug.rng)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import medaug
from medaug import precision, rng
from medaug.errors import MedaugError


@pytest.mark.parametrize(("spec", "dtype"), [("fp32", torch.float32), ("BF16", torch.bfloat16)])
def test_explicit_precisions_resolve_on_the_cpu(spec: str, dtype: torch.dtype) -> None:
    assert precision.resolve_precision(spec, "cpu") == dtype


def test_auto_on_the_cpu_is_bf16_exactly_where_amx_is(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(precision, "cpu_has_amx", lambda: True)
    assert precision.resolve_precision("auto", "cpu") == torch.bfloat16
    monkeypatch.setattr(precision, "cpu_has_amx", lambda: False)
    assert precision.resolve_precision("auto", "cpu") == torch.float32


@pytest.mark.parametrize(
    ("spec", "device", "match"),
    [
        ("fp8", "cpu", "one of auto, fp32, bf16, fp16"),
        ("fp16", "cpu", "fp16 needs a CUDA device"),
        ("", "cpu", "one of auto"),
    ],
)
def test_bad_precisions_are_refused_clearly(spec: str, device: str, match: str) -> None:
    with pytest.raises(MedaugError, match=match):
        precision.resolve_precision(spec, device)


def test_autocast_runs_bf16_on_the_cpu_and_nothing_for_fp32() -> None:
    layer = nn.Linear(4, 4)
    x = torch.ones(2, 4)
    with precision.autocast("cpu", torch.bfloat16):
        assert layer(x).dtype == torch.bfloat16
    with precision.autocast("cpu", torch.float32):
        assert layer(x).dtype == torch.float32
    assert precision.uses_grad_scaler(torch.float16)
    assert not precision.uses_grad_scaler(torch.bfloat16)
    assert precision.precision_name(torch.bfloat16) == "bf16"


@pytest.mark.parametrize("name", ["dcgan", "ddpm"])
def test_generators_take_the_precision_option_and_the_older_amp(name: str) -> None:
    small = {"ngf": 8, "ndf": 8} if name == "dcgan" else {"width": 8, "attention_res": 0}
    gen = medaug.create_generator(name, image_size=16, precision="bf16", **small)
    assert gen.options()["precision"] == "bf16"
    x = torch.rand(4, 1, 16, 16) * 2 - 1
    gen.fit(x, epochs=1, batch_size=4, seed=0)
    out = gen.sample(2, seed=0)
    assert out.dtype == torch.float32 and torch.isfinite(out).all()
    old = medaug.create_generator(name, image_size=16, amp=False, **small)
    assert old.options()["precision"] == "fp32" and "amp" not in old.options()
    with pytest.raises(MedaugError, match="precision"):
        medaug.create_generator(name, image_size=16, precision="half", **small)


def test_a_cpu_generator_fills_a_tensor_of_another_device_with_the_same_numbers() -> None:
    """The rule behind every seeded draw: a CPU generator's numbers, whatever the target.
    (On CUDA, tests/gpu checks the copy path; here the same-device path and the meta
    device, which takes a CPU generator's draw without complaint, stand in.)"""
    a = rng.normal_(torch.empty(5, 3), 1.0, 0.02, torch.Generator().manual_seed(7))
    b = nn.init.normal_(torch.empty(5, 3), 1.0, 0.02, generator=torch.Generator().manual_seed(7))
    assert torch.equal(a, b)
    meta = rng.normal_(torch.empty(5, 3, device="meta"), 0.0, 1.0, torch.Generator())
    assert meta.device.type == "meta"
    drawn = rng.randn(2, 3, generator=torch.Generator().manual_seed(1), device="meta")
    assert drawn.device.type == "meta" and drawn.shape == (2, 3)
    same = rng.randn(2, 3, generator=torch.Generator().manual_seed(1))
    assert torch.equal(same, torch.randn(2, 3, generator=torch.Generator().manual_seed(1)))


def test_same_device_reads_a_bare_cuda_as_the_current_gpu() -> None:
    assert rng.same_device(torch.device("cpu"), torch.device("cpu"))
    assert not rng.same_device(torch.device("cpu"), torch.device("meta"))
    gen = rng.device_generator("cpu", seed=3)
    assert torch.equal(
        torch.rand(2, generator=gen), torch.rand(2, generator=torch.Generator().manual_seed(3))
    )
