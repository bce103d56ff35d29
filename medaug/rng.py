"""Seeded random draws that work whatever device the tensor and the generator are on.

PyTorch refuses a draw whose :class:`torch.Generator` lives on another device than the
tensor it fills (``nn.init.normal_(cuda_param, generator=cpu_generator)`` raises
"Expected a 'cuda' device type for generator but found 'cpu'"). medaug's rule for every
draw made for reproducibility (weight init, latent noise, batch order, augmentation):

- draws made once (initial weights, spectral-norm vectors, sampling noise, batch
  orders) come from a CPU generator and are copied to the tensor's device, so the same
  seed gives the same numbers on every device;
- draws made every training step (latent noise, DiffAugment, diffusion noise and
  timesteps) come from a generator on the tensor's own device
  (:func:`device_generator`), so the step never waits for a host-to-device copy.

The helpers below accept either kind and do the right thing.
"""

from __future__ import annotations

import torch

__all__ = ["device_generator", "normal_", "randn", "same_device"]


def same_device(a: torch.device, b: torch.device) -> bool:
    """Whether ``a`` and ``b`` are the same device (``cuda`` counts as the current GPU)."""
    if a.type != b.type:
        return False
    if a.type != "cuda" or a.index == b.index:
        return True
    current = torch.cuda.current_device()
    return (a.index if a.index is not None else current) == (
        b.index if b.index is not None else current
    )


def device_generator(device: torch.device | str, seed: int | None = None) -> torch.Generator:
    """A generator on ``device`` (seeded when ``seed`` is given)."""
    gen = torch.Generator(device=torch.device(device))
    if seed is not None:
        gen.manual_seed(seed)
    return gen


@torch.no_grad()
def normal_(
    tensor: torch.Tensor, mean: float, std: float, generator: torch.Generator | None
) -> torch.Tensor:
    """Fill ``tensor`` in place with N(mean, std) drawn from ``generator``.

    A generator on another device than ``tensor`` draws on its own device and the
    values are copied over; on the same device this is ``tensor.normal_`` itself (the
    same numbers as ``nn.init.normal_``).
    """
    if generator is None or same_device(generator.device, tensor.device):
        return tensor.normal_(mean, std, generator=generator)
    drawn = torch.empty(tensor.shape, dtype=tensor.dtype, device=generator.device)
    drawn.normal_(mean, std, generator=generator)
    return tensor.copy_(drawn)


def randn(
    *shape: int,
    generator: torch.Generator | None,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Standard normal draws of ``shape`` from ``generator`` (the CPU's global generator
    when ``None``), placed on ``device``."""
    target = torch.device(device)
    source = generator.device if generator is not None else torch.device("cpu")
    out = torch.randn(*shape, generator=generator, device=source, dtype=dtype)
    return out if same_device(source, target) else out.to(target)
