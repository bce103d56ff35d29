"""The example third-party WGAN-GP plugin plugs in through a real entry point and
honours the generator contract: shapes, range, seeding, checkpoint round trip, resume."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

import medaug
from medaug.plugins import PluginHost

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "medaug-wgan-example"


@pytest.fixture
def wgan_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PluginHost]:
    """A plugin host that discovers the example as an installed distribution would be."""
    info = tmp_path / "medaug_wgan_example-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: medaug-wgan-example\nVersion: 0.1.0\n"
    )
    (info / "entry_points.txt").write_text("[medaug]\nwgan-gp = medaug_wgan_example\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.syspath_prepend(str(EXAMPLE))
    yield PluginHost()
    sys.modules.pop("medaug_wgan_example", None)


def _images(n: int = 12, size: int = 16) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    return torch.rand(n, 1, size, size, generator=g) * 2 - 1


def _roundtrip(state: dict[str, object]) -> dict[str, object]:
    buf = io.BytesIO()
    torch.save(state, buf)
    buf.seek(0)
    return torch.load(buf, weights_only=True)  # type: ignore[no-any-return]


def test_discovered_with_distribution_version(wgan_host: PluginHost) -> None:
    entry = wgan_host.registry("generator").get("wgan-gp")
    assert entry.version == "0.1.0"
    assert wgan_host.plugin_info(entry.plugin).distribution == "medaug-wgan-example"
    assert not wgan_host.plugin_info(entry.plugin).builtin


def test_contract_and_resume(wgan_host: PluginHost) -> None:
    reg = wgan_host.registry("generator")
    opts = dict(image_size=16, channels=1, device="cpu", n_critic=2, width=8, nz=8)
    images = _images()

    full = reg.create("wgan-gp", **opts)
    assert isinstance(full, medaug.contracts.Generator)
    full.fit(images, epochs=2, batch_size=4, seed=3)
    assert full.epochs_done == 2
    out = full.sample(5, seed=7)
    assert out.shape == (5, 1, 16, 16) and out.dtype == torch.float32
    assert out.min() >= -1 and out.max() <= 1 and torch.isfinite(out).all()
    assert torch.equal(out, full.sample(5, seed=7))
    assert not torch.equal(out, full.sample(5, seed=8))

    # interrupted after one epoch, restored from a weights_only checkpoint, continued
    part = reg.create("wgan-gp", **opts)
    part.fit(images, epochs=1, batch_size=4, seed=3)
    resumed = reg.create("wgan-gp", **opts)
    resumed.load_state_dict(_roundtrip(part.state_dict()))
    assert resumed.epochs_done == 1
    resumed.fit(images, epochs=2, batch_size=4, seed=3)
    torch.testing.assert_close(resumed.sample(5, seed=7), out)


def test_bad_size_is_a_clear_error(wgan_host: PluginHost) -> None:
    with pytest.raises(medaug.MedaugError, match="power of two"):
        wgan_host.registry("generator").create("wgan-gp", image_size=48, channels=1)
