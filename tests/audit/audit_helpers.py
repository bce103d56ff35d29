"""Corruptions of ``[-1, 1]`` image batches: the Heusel validation and planted near-copies."""

from __future__ import annotations

import io

import numpy as np
import torch
from PIL import Image


def noise(x: torch.Tensor, sigma: float, seed: int = 1) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (x + sigma * torch.randn(x.shape, generator=g)).clamp(-1, 1)


def blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    from torchvision.transforms.v2.functional import gaussian_blur

    if sigma <= 0:
        return x
    size = 2 * int(3 * sigma) + 1
    return gaussian_blur(x, kernel_size=[size, size], sigma=[sigma, sigma])


def occlude(x: torch.Tensor, fraction: float, seed: int = 2) -> torch.Tensor:
    """A mid-grey square of side ``fraction`` of the image at a random place in each image."""
    out = x.clone()
    side = round(x.shape[-1] * fraction)
    rng = np.random.default_rng(seed)
    for i in range(len(out)):
        r, c = rng.integers(0, x.shape[-1] - side + 1, size=2)
        out[i, :, r : r + side, c : c + side] = 0.0
    return out


def brighten(x: torch.Tensor, gain: float = 1.1, offset: float = 0.1) -> torch.Tensor:
    return (x * gain + offset).clamp(-1, 1)


def shift(x: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """Shift by (dy, dx) px, repeating the edge rows/columns into the gap (no wrap-around)."""
    h, w = x.shape[-2:]
    pad = (max(dx, 0), max(-dx, 0), max(dy, 0), max(-dy, 0))
    padded = torch.nn.functional.pad(x, pad, mode="replicate")
    top, left = max(-dy, 0), max(-dx, 0)
    return padded[..., top : top + h, left : left + w]


def jpeg(x: torch.Tensor, quality: int = 75) -> torch.Tensor:
    """Re-compress every (grey) image as JPEG."""
    out = []
    for img in x:
        arr = ((img[0] + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).numpy()
        buf = io.BytesIO()
        Image.fromarray(arr, mode="L").save(buf, format="JPEG", quality=quality)
        buf.seek(0)
        back = np.asarray(Image.open(buf), dtype=np.float32) / 127.5 - 1.0
        out.append(torch.from_numpy(back)[None])
    return torch.stack(out)
