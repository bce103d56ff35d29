"""Device resolution and seeding."""

from __future__ import annotations

import pytest
import torch

from medaug import MedaugError, resolve_device, seed_everything


def test_auto_and_cpu() -> None:
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    assert resolve_device(None).type == expected
    assert resolve_device("CPU") == torch.device("cpu")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")


@pytest.mark.parametrize("bad", ["gpu", "cuda:x", "cpu:0:1", ""])
def test_invalid_device(bad: str) -> None:
    if bad == "":
        assert resolve_device(bad).type in ("cpu", "cuda")  # empty means auto
        return
    with pytest.raises(MedaugError, match="invalid device"):
        resolve_device(bad)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-CUDA message")
def test_cuda_missing_is_clear() -> None:
    with pytest.raises(MedaugError, match="CUDA is not available"):
        resolve_device("cuda:0")


def test_seed_everything_is_deterministic() -> None:
    g1 = seed_everything(123)
    a = torch.rand(3)
    b = torch.rand(3, generator=g1)
    g2 = seed_everything(123)
    assert torch.equal(a, torch.rand(3))
    assert torch.equal(b, torch.rand(3, generator=g2))
    with pytest.raises(MedaugError):
        seed_everything(-1)
