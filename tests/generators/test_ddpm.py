"""ddpm specifics: MONAI building blocks, UNet sizing, options, EMA, classifier-free
guidance, state checks, and what happens without MONAI.

The shared contract checks run on the default (unconditional) ``ddpm`` through
``test_generator_contract.py``; the conditional model runs them here, with tiny options.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from click.testing import CliRunner
from medaug_diffusion.model import DDPM, ConditionalDDPM
from medaug_diffusion.options import DEFAULTS, SCHEDULES
from medaug_diffusion.unet import UNetLayout, build_unet, level_channels, level_sizes
from monai.networks.nets import DiffusionModelUNet
from monai.networks.schedulers import DDIMScheduler, DDPMScheduler
from torch import nn

import medaug
from medaug.cli import build_cli
from medaug.testing import Check, parametrize_with_checks

TINY: dict[str, Any] = {"width": 8, "sample_steps": 3}


def _ddpm(**options: Any) -> DDPM:
    opts = {"image_size": 16, **TINY, **options}
    gen = medaug.create_generator("ddpm", **opts)
    assert isinstance(gen, DDPM)
    return gen


def _images(n: int = 8, size: int = 16, channels: int = 1) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    return torch.rand(n, channels, size, size, generator=g) * 2 - 1


@parametrize_with_checks("generator", ["ddpm"], conditional=True, sync_every=2, **TINY)
def test_conditional_ddpm_contract(check: Check) -> None:
    check()


def test_defaults_and_monai_building_blocks() -> None:
    gen = medaug.create_generator("ddpm")
    assert type(gen) is DDPM and gen.conditional is False
    assert (gen.image_size, gen.channels) == (64, 1)
    assert gen.options() == DEFAULTS
    assert isinstance(gen.unet, DiffusionModelUNet)
    assert isinstance(gen._train_scheduler, DDPMScheduler)
    assert isinstance(gen._sampler, DDIMScheduler)
    assert len(gen._sampler.timesteps) == DEFAULTS["sample_steps"]
    assert gen._train_scheduler.num_train_timesteps == 1000
    # Ho et al.'s linear schedule, beta 1e-4 .. 0.02
    betas = gen._train_scheduler.betas
    assert betas[0].item() == pytest.approx(1e-4) and betas[-1].item() == pytest.approx(0.02)
    assert gen.opt.param_groups[0]["lr"] == 2e-4


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_every_offered_monai_schedule_trains_and_samples(schedule: str) -> None:
    gen = _ddpm(schedule=schedule, timesteps=50, sample_steps=2)
    gen.fit(_images(4), epochs=1, batch_size=4, seed=0)
    out = gen.sample(2, seed=0)
    assert torch.isfinite(out).all() and out.abs().max() <= 1


@pytest.mark.parametrize("value", [True, "true", "1"])
def test_conditional_option_builds_the_conditional_class(value: Any) -> None:
    gen = _ddpm(conditional=value, num_classes=3)
    assert type(gen) is ConditionalDDPM and gen.conditional is True
    assert gen.options()["conditional"] is True
    assert gen.unet.class_embedding.num_embeddings == 4  # 3 classes + "no class"


@pytest.mark.parametrize(
    ("size", "levels", "channels"),
    [
        (16, [16, 8], (32, 64)),
        (32, [32, 16, 8], (32, 64, 64)),
        (64, [64, 32, 16, 8], (32, 64, 64, 128)),
        (128, [128, 64, 32, 16, 8], (32, 64, 64, 128, 128)),
        (256, [256, 128, 64, 32, 16, 8], (32, 64, 64, 128, 128, 128)),
    ],
)
def test_unet_levels_follow_the_image_size(
    size: int, levels: list[int], channels: tuple[int, ...]
) -> None:
    assert level_sizes(size) == levels
    assert level_channels(size, 32) == channels
    net = build_unet(
        size, 3, UNetLayout(width=32, res_blocks=1, attention_res=16), num_class_embeds=None, seed=0
    )
    assert tuple(net.block_out_channels) == channels
    assert list(net.attention_levels) == [s <= 16 for s in levels]


@pytest.mark.parametrize("size", [16, 32, 64, 128, 256])
@pytest.mark.parametrize("channels", [1, 3])
def test_unet_maps_images_to_noise_of_the_same_shape(size: int, channels: int) -> None:
    net = build_unet(
        size,
        channels,
        UNetLayout(width=4, res_blocks=1, attention_res=16),
        num_class_embeds=None,
        seed=0,
    )
    x = torch.randn(1, channels, size, size)
    with torch.inference_mode():
        assert net(x, torch.tensor([10])).shape == x.shape


def test_building_leaves_the_global_rng_alone_and_weights_follow_the_seed() -> None:
    def weights(seed: int) -> torch.Tensor:
        net = build_unet(
            16,
            1,
            UNetLayout(width=8, res_blocks=1, attention_res=0),
            num_class_embeds=None,
            seed=seed,
        )
        return torch.cat([p.flatten() for p in net.parameters()])

    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    a = weights(1)
    assert torch.equal(torch.random.get_rng_state(), before)
    assert torch.equal(a, weights(1)) and not torch.equal(a, weights(2))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"image_size": 48}, "image sizes"),
        ({"image_size": 512}, "image sizes"),
        ({"channels": 2}, "1 or 3 channels"),
        ({"bogus": 1}, "unknown ddpm option 'bogus'; valid options: width, res_blocks"),
        ({"width": 0}, "'width' must be an integer >= 4"),
        ({"sample_steps": "many"}, "'sample_steps' must be an integer"),
        ({"sample_steps": 50, "timesteps": 20}, "cannot exceed 'timesteps'"),
        ({"schedule": "quadratic"}, "one of linear_beta, scaled_linear_beta"),
        ({"guidance": -1}, "'guidance' must be >= 0"),
        ({"cond_drop": 1.5}, r"'cond_drop' must be in \[0.0, 1.0\]"),
        ({"ema_decay": 2}, "'ema_decay' must be in"),
        ({"lr": 0}, "'lr' must be > 0"),
        ({"conditional": "maybe"}, "true or false"),
        ({"channels_last": "sometimes"}, "true or false"),
    ],
)
def test_bad_options_are_one_line_errors(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(medaug.MedaugError, match=match) as info:
        medaug.create_generator("ddpm", **kwargs)
    assert "\n" not in str(info.value)


def test_sampling_uses_the_ema_weights() -> None:
    gen = _ddpm()
    gen.fit(_images(), epochs=1, batch_size=4, seed=0)
    before = gen.sample(2, seed=0)
    with torch.no_grad():
        for p in gen.unet.parameters():
            p.add_(1.0)  # the trained (non-EMA) weights do not take part in sampling
    assert torch.equal(gen.sample(2, seed=0), before)
    with torch.no_grad():
        for p in gen.ema.model.parameters():
            p.mul_(0.5)
    assert not torch.equal(gen.sample(2, seed=0), before)


class _Oracle(nn.Module):
    """The exact noise predictor for data that is one constant image per class
    (``level[label]``; the "no class" label gets the last level)."""

    def __init__(self, alphas_cumprod: torch.Tensor, levels: list[float]) -> None:
        super().__init__()
        self.ab, self.levels = alphas_cumprod, torch.tensor(levels)

    def forward(
        self,
        x: torch.Tensor,
        timesteps: torch.Tensor,
        context: torch.Tensor | None = None,
        class_labels: torch.Tensor | None = None,
    ) -> torch.Tensor:
        a = self.ab[timesteps.long()].view(-1, 1, 1, 1)
        labels = torch.zeros(len(x), dtype=torch.long) if class_labels is None else class_labels
        x0 = self.levels[labels].view(-1, 1, 1, 1)
        return (x - a.sqrt() * x0) / (1 - a).sqrt()


@pytest.mark.parametrize("sample_steps", [1, 7, 25])
def test_ddim_with_an_exact_noise_predictor_returns_the_data(sample_steps: int) -> None:
    gen = _ddpm(sample_steps=sample_steps)
    gen.ema.model = _Oracle(gen._sampler.alphas_cumprod, [0.3])
    out = gen.sample(70, seed=0)  # two chunks of DDIM batches
    assert torch.allclose(out, torch.full_like(out, 0.3), atol=1e-4)


def test_labels_and_guidance_reach_the_noise_predictor() -> None:
    gen = _ddpm(conditional=True, num_classes=2, guidance=1.0)
    gen.ema.model = _Oracle(gen._sampler.alphas_cumprod, [-0.5, 0.5, 0.0])
    labels = torch.tensor([0, 1, 1])
    out = gen.sample(3, seed=0, labels=labels).mean(dim=(1, 2, 3))
    assert torch.allclose(out, torch.tensor([-0.5, 0.5, 0.5]), atol=1e-4)
    assert torch.allclose(gen.sample(2, seed=0).mean(dim=(1, 2, 3)), torch.zeros(2), atol=1e-4)
    # guidance 2 extrapolates away from the "no class" image (0.0) beyond the class (0.5)
    gen._opts["guidance"] = 2.0
    guided = gen.sample(1, seed=0, labels=torch.tensor([1]))
    assert guided.mean() > 0.5 + 1e-3


def test_samples_are_plain_tensors_in_range() -> None:
    out = _ddpm().sample(3, seed=0)
    assert not out.is_inference() and out.dtype == torch.float32
    assert out.min() >= -1 and out.max() <= 1


def test_guidance_and_labels_steer_the_conditional_model() -> None:
    gen = _ddpm(conditional=True, num_classes=2)
    labels = torch.tensor([0, 1, 0, 1, 0, 1, 0, 1])
    gen.fit(_images(), epochs=2, batch_size=4, seed=0, labels=labels)
    zeros, ones = torch.zeros(4, dtype=torch.long), torch.ones(4, dtype=torch.long)
    a = gen.sample(4, seed=0, labels=zeros)
    assert not torch.equal(a, gen.sample(4, seed=0, labels=ones))
    unguided = _ddpm(conditional=True, num_classes=2, guidance=1.0)
    unguided.load_state_dict(gen.state_dict())
    assert not torch.equal(a, unguided.sample(4, seed=0, labels=zeros))
    # without labels: the class mixture (the "no class" embedding)
    mixture = gen.sample(4, seed=0)
    assert mixture.shape == a.shape and not torch.equal(mixture, a)


def test_conditional_label_errors() -> None:
    gen = _ddpm(conditional=True, num_classes=2)
    x = _images(4)
    with pytest.raises(medaug.MedaugError, match="fit needs labels"):
        gen.fit(x, epochs=1, batch_size=2, seed=0)
    with pytest.raises(medaug.MedaugError, match=r"labels must be in \[0, 2\)"):
        gen.fit(x, epochs=1, batch_size=2, seed=0, labels=torch.tensor([0, 1, 2, 0]))
    with pytest.raises(medaug.MedaugError, match=r"needs labels of shape \(4,\)"):
        gen.fit(x, epochs=1, batch_size=2, seed=0, labels=torch.zeros(3, dtype=torch.long))
    with pytest.raises(medaug.MedaugError, match="labels must be integer class indices"):
        gen.sample(2, seed=0, labels=torch.zeros(2))


def test_state_mismatches_are_clear_errors() -> None:
    gen = _ddpm()
    state = gen.state_dict()
    with pytest.raises(medaug.MedaugError, match="not a ddpm state"):
        gen.load_state_dict({"format": "other"})
    with pytest.raises(medaug.MedaugError, match="px"):
        _ddpm(image_size=32).load_state_dict(state)
    with pytest.raises(medaug.MedaugError, match="width=8"):
        _ddpm(width=16).load_state_dict(state)
    with pytest.raises(medaug.MedaugError, match="unconditional"):
        _ddpm(conditional=True).load_state_dict(state)
    cond = _ddpm(conditional=True, num_classes=3).state_dict()
    with pytest.raises(medaug.MedaugError, match="3 classes"):
        _ddpm(conditional=True, num_classes=2).load_state_dict(cond)


def test_state_from_another_device_type_loads_for_sampling_and_training() -> None:
    gen = _ddpm()
    x = _images()
    gen.fit(x, epochs=1, batch_size=4, seed=0)
    state = gen.state_dict()
    state["rng"] = {
        **state["rng"],
        "noise_device": "cuda",
        "noise": torch.zeros(16, dtype=torch.uint8),
    }
    other = _ddpm()
    other.load_state_dict(state)
    assert torch.equal(other.sample(3, seed=1), gen.sample(3, seed=1))
    other.fit(x, epochs=2, batch_size=4, seed=0)
    assert other.epochs_done == 2 and torch.isfinite(other.sample(2, seed=0)).all()


@pytest.fixture
def _keep_torch_threads() -> Iterator[None]:
    """The CLI sizes torch's thread pool for the machine; later tests expect one thread."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


@pytest.mark.slow
@pytest.mark.usefixtures("_keep_torch_threads")
def test_balance_then_generate_with_a_conditional_ddpm(image_folder, tmp_path: Path) -> None:
    data = image_folder({"a": 4, "b": 8}, size=16)
    out, more = tmp_path / "out", tmp_path / "more"
    args = ["--image-size", "16", "--epochs", "1", "--batch-size", "4", "--json"]
    opts = ["-O", "conditional=true", "-O", "width=8", "-O", "sample_steps=2"]
    runner = CliRunner()
    result = runner.invoke(
        build_cli(),
        ["balance", str(data), "--out", str(out), "-g", "ddpm", *args, *opts],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["counts_after"] == {"a": 8, "b": 8}
    assert [p.name for p in (out / "checkpoints").glob("*.pt")] == ["all-classes.pt"]
    result = runner.invoke(
        build_cli(),
        ["generate", "-c", str(out / "checkpoints"), "-n", "2", "--out", str(more), "--json"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (more / "a").glob("synthetic_*")) == [
        "synthetic_0_00000.png",
        "synthetic_0_00001.png",
    ]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_amp_trains_and_samples() -> None:
    gen = _ddpm(device="cuda", conditional=True, num_classes=2)
    gen.fit(_images(), epochs=1, batch_size=4, seed=0, labels=torch.arange(8) % 2)
    out = gen.sample(4, seed=0, labels=torch.zeros(4, dtype=torch.long))
    assert out.device.type == "cpu" and torch.isfinite(out).all()


# -- without MONAI --------------------------------------------------------------------


@pytest.fixture(params=["monai", "einops"])
def without(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Make ``import <module>`` fail as if it were not installed (a ``None`` entry in
    ``sys.modules`` is how the import system spells "not importable")."""
    module = request.param
    for name in [m for m in sys.modules if m == module or m.startswith(f"{module}.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, module, None)
    medaug.plugins.reset_host()
    return module


def test_without_monai_ddpm_is_listed_with_how_to_install(without: str) -> None:
    entry = medaug.registry("generator").get("ddpm")
    assert f"needs {without}" in entry.description
    assert 'pip install "medaug[diffusion]"' in entry.description
    result = CliRunner().invoke(build_cli(), ["plugins", "--json"], catch_exceptions=False)
    assert result.exit_code == 0 and "medaug[diffusion]" in result.stdout


def test_without_monai_building_ddpm_says_how_to_install(without: str) -> None:
    with pytest.raises(medaug.MedaugError) as info:
        medaug.create_generator("ddpm", image_size=16)
    message = str(info.value)
    assert "\n" not in message and without in message
    assert 'pip install "medaug[diffusion]"' in message


@pytest.mark.usefixtures("_keep_torch_threads")
def test_without_monai_balance_fails_with_one_line(
    without: str, image_folder, tmp_path: Path
) -> None:
    data = image_folder({"a": 2, "b": 4}, size=16)
    result = CliRunner().invoke(
        build_cli(), ["balance", str(data), "--out", str(tmp_path / "out"), "-g", "ddpm"]
    )
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: generator 'ddpm' is not available")
    assert f"needs {without}" in lines[0] and 'pip install "medaug' in lines[0]
    assert not (tmp_path / "out" / "manifest.csv").exists()
