"""DCGAN specifics: the architecture and hyper-parameters of Radford et al. / pytorch/examples."""

from __future__ import annotations

import pytest
import torch
from medaug_dcgan.model import DEFAULTS
from medaug_dcgan.networks import DCGANDiscriminator, DCGANGenerator
from torch import nn

import medaug


def test_defaults_are_the_papers() -> None:
    gen = medaug.create_generator("dcgan")
    opts = gen.options()
    assert gen.image_size == 64 and gen.channels == 1
    assert (opts["nz"], opts["ngf"], opts["ndf"]) == (100, 64, 64)
    assert opts["lr"] == 2e-4 and (opts["beta1"], opts["beta2"]) == (0.5, 0.999)
    for opt in (gen.optG, gen.optD):
        group = opt.param_groups[0]
        assert group["lr"] == 2e-4 and group["betas"] == (0.5, 0.999)
    assert set(DEFAULTS) == set(opts)


def test_64px_networks_match_pytorch_examples() -> None:
    g, d = DCGANGenerator(64, 3), DCGANDiscriminator(64, 3)
    convt = [m for m in g if isinstance(m, nn.ConvTranspose2d)]
    assert [(m.in_channels, m.out_channels) for m in convt] == [
        (100, 512),
        (512, 256),
        (256, 128),
        (128, 64),
        (64, 3),
    ]
    assert isinstance(g[-1], nn.Tanh)
    assert sum(isinstance(m, nn.BatchNorm2d) for m in g) == 4
    assert sum(isinstance(m, nn.ReLU) for m in g) == 4
    convs = [m for m in d if isinstance(m, nn.Conv2d)]
    assert [(m.in_channels, m.out_channels) for m in convs] == [
        (3, 64),
        (64, 128),
        (128, 256),
        (256, 512),
        (512, 1),
    ]
    assert isinstance(d[1], nn.LeakyReLU) and d[1].negative_slope == 0.2  # no BN first
    assert not any(isinstance(m, nn.Sigmoid) for m in d)  # logits for BCEWithLogits
    assert sum(isinstance(m, nn.BatchNorm2d) for m in d) == 3
    # sizes match the pytorch/examples parameter counts (3.58M / 2.77M at 3 channels)
    assert sum(p.numel() for p in g.parameters()) == 3576704
    assert sum(p.numel() for p in d.parameters()) == 2765568


@pytest.mark.parametrize("size", [16, 32, 64, 128, 256])
@pytest.mark.parametrize("channels", [1, 3])
def test_layers_follow_the_image_size(size: int, channels: int) -> None:
    g, d = DCGANGenerator(size, channels), DCGANDiscriminator(size, channels)
    z = torch.randn(2, 100, 1, 1)
    with torch.no_grad():
        x = g(z)
        assert x.shape == (2, channels, size, size)
        assert d(x).shape == (2,)
    blocks = size.bit_length() - 3  # log2(size) - 2
    assert sum(isinstance(m, nn.ConvTranspose2d) for m in g) == blocks + 1


def test_init_is_normal_0_02() -> None:
    gen = medaug.create_generator("dcgan", image_size=32)
    gen._start(0)
    w = torch.cat(
        [m.weight.flatten() for m in gen.netG.modules() if isinstance(m, nn.ConvTranspose2d)]
    )
    assert abs(w.mean().item()) < 2e-3 and 0.018 < w.std().item() < 0.022
    bn = torch.cat(
        [m.weight.flatten() for m in gen.netD.modules() if isinstance(m, nn.BatchNorm2d)]
    )
    assert 0.95 < bn.mean().item() < 1.05


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"image_size": 48}, "image sizes"),
        ({"image_size": 8}, "image sizes"),
        ({"channels": 2}, "1 or 3 channels"),
        ({"lr": "fast"}, "number"),
        ({"nz": 0}, "positive integer"),
        ({"amp": "maybe"}, "true or false"),
        ({"bogus": 1}, "unknown dcgan option 'bogus'"),
    ],
)
def test_bad_options(kwargs: dict, match: str) -> None:
    with pytest.raises(medaug.MedaugError, match=match):
        medaug.create_generator("dcgan", **kwargs)


def test_string_options_from_the_command_line_are_accepted() -> None:
    gen = medaug.create_generator(
        "dcgan", image_size=16, amp="false", channels_last="true", compile="0"
    )
    assert gen.options()["amp"] is False and gen.options()["channels_last"] is True
    x = torch.rand(8, 1, 16, 16) * 2 - 1
    gen.fit(x, epochs=1, batch_size=4, seed=0)
    assert torch.isfinite(gen.sample(3, seed=0)).all()


def test_batch_larger_than_data_uses_one_full_batch() -> None:
    gen = medaug.create_generator("dcgan", image_size=16)
    steps: list[int] = []

    class CB:
        def on_step(self, epoch, step, n, losses):  # type: ignore[no-untyped-def]
            steps.append(n)

        def on_epoch_end(self, epoch, losses):  # type: ignore[no-untyped-def]
            pass

    gen.fit(torch.zeros(5, 1, 16, 16), epochs=1, batch_size=64, seed=0, callback=CB())
    assert steps == [1]


def test_wrong_shape_is_a_clear_error() -> None:
    gen = medaug.create_generator("dcgan", image_size=16)
    with pytest.raises(medaug.MedaugError, match="expects images of shape"):
        gen.fit(torch.zeros(4, 1, 32, 32), epochs=1, batch_size=2, seed=0)
    with pytest.raises(medaug.MedaugError, match="not a dcgan state"):
        gen.load_state_dict({"format": "other"})
    other = medaug.create_generator("dcgan", image_size=32)
    with pytest.raises(medaug.MedaugError, match="px"):
        gen.load_state_dict(other.state_dict())


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_amp_channels_last_trains() -> None:
    gen = medaug.create_generator("dcgan", image_size=32, device="cuda")
    x = torch.rand(16, 1, 32, 32) * 2 - 1
    gen.fit(x, epochs=1, batch_size=8, seed=0)
    out = gen.sample(4, seed=0)
    assert out.device.type == "cpu" and torch.isfinite(out).all()


def test_state_from_another_device_type_loads_for_sampling_and_training() -> None:
    gen = medaug.create_generator("dcgan", image_size=16)
    x = torch.rand(8, 1, 16, 16) * 2 - 1
    gen.fit(x, epochs=1, batch_size=4, seed=0)
    state = gen.state_dict()
    state["rng"] = {
        **state["rng"],
        "noise_device": "cuda",
        "noise": torch.zeros(16, dtype=torch.uint8),
    }
    other = medaug.create_generator("dcgan", image_size=16)
    other.load_state_dict(state)
    assert torch.equal(other.sample(3, seed=1), gen.sample(3, seed=1))
    other.fit(x, epochs=2, batch_size=4, seed=0)
    assert other.epochs_done == 2 and torch.isfinite(other.sample(2, seed=0)).all()
