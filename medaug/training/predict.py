"""Predictions of a trained classifier: softmax probabilities in batches, on one
process. :func:`~medaug.training.parallel.predict_proba_everywhere` shares this out over
the ranks of a torchrun launch."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from medaug.training.normalize import Normalizer


@torch.no_grad()
def predict_proba(
    model: nn.Module,
    x: torch.Tensor,
    normalizer: Normalizer,
    *,
    device: torch.device,
    batch_size: int = 256,
) -> np.ndarray:
    """Softmax probabilities ``(N, K)`` for images ``x`` in ``[0, 1]``."""
    model.eval()
    out = []
    normalize = normalizer.on(device)
    for start in range(0, x.shape[0], batch_size):
        xb = normalize(x[start : start + batch_size].to(device, dtype=torch.float32))
        out.append(torch.softmax(model(xb).float(), dim=1).cpu())
    if not out:
        return np.zeros((0, 0), dtype=np.float64)
    return torch.cat(out).double().numpy()
