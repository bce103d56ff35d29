"""Data-parallel classifier training: the pieces :func:`~medaug.training.train_classifier`
uses when it runs on every rank of a torchrun launch.

- :func:`sync_batchnorm` and :func:`wrap`: ``SyncBatchNorm`` on CUDA when the model has
  BatchNorm (PyTorch's SyncBatchNorm runs on GPUs only: on CPU each rank normalises with
  its own batch statistics, and the running statistics are rank 0's), then
  ``DistributedDataParallel`` (gradients averaged over the ranks after every step);
- :func:`shard`: this rank's part of an epoch's batch order, as
  ``torch.utils.data.DistributedSampler`` makes it for a dataset (the shared order padded
  with its first samples to a multiple of the world size, then every ``world``-th index
  from ``rank``): every rank takes the same number of steps;
- :func:`predict_proba_everywhere`: predictions shared out over the ranks and gathered,
  so that validation, early stopping and threshold calibration see identical numbers on
  every rank and the ranks stay in step;
- :func:`sync_buffers` and :func:`check_same_weights`: BatchNorm running statistics copied
  from rank 0, then a digest of every weight compared on all ranks (a difference fails
  loudly instead of saving one rank's model).

Effective batch size = ``batch_size`` x world size; the peak learning rate is scaled by
``sqrt(world size)`` (:func:`scaled_lr`: the square-root rule for Adam-type optimisers,
Malladi et al., NeurIPS 2022), with the warm-up medaug already uses.

:class:`Placement` says where a run computes: its device, and whether data-parallel.
"""

from __future__ import annotations

import hashlib
import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from medaug import distributed
from medaug.training.normalize import Normalizer
from medaug.training.predict import predict_proba


@dataclass(frozen=True)
class Placement:
    """Where a run computes: this process's ``device``, and whether it works
    ``data_parallel`` with the other ranks of the active process group
    (:mod:`medaug.distributed`; a single process without one)."""

    device: torch.device
    data_parallel: bool = False

    @property
    def world_size(self) -> int:
        """Ranks working together (1 unless ``data_parallel`` in a process group)."""
        return distributed.world_size() if self.data_parallel else 1


def scaled_lr(lr: float, world_size: int) -> float:
    """The peak learning rate used with ``world_size`` data-parallel ranks."""
    return lr * math.sqrt(max(1, world_size))


def has_batchnorm(model: nn.Module) -> bool:
    """Whether ``model`` holds any BatchNorm layer."""
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())


def sync_batchnorm(model: nn.Module, device: torch.device) -> nn.Module:
    """``model`` with its BatchNorm layers turned into ``SyncBatchNorm`` on CUDA (batch
    statistics over all ranks); unchanged on CPU, where SyncBatchNorm does not run."""
    if device.type == "cuda" and has_batchnorm(model):
        return nn.SyncBatchNorm.convert_sync_batchnorm(model)
    return model


def wrap(model: nn.Module, device: torch.device) -> nn.Module:
    """``model`` (already on ``device``) inside ``DistributedDataParallel``, which
    averages gradients over the ranks. Train through the returned wrapper; ``model``
    holds the (shared) weights."""
    from torch.nn.parallel import DistributedDataParallel

    # A size-1 dimension (a 1-channel first convolution) gives gradients strides that
    # differ from DDP's buckets although the memory layout is the same: harmless, and
    # worded as a performance warning (pytorch/pytorch#47163).
    warnings.filterwarnings(
        "ignore", message="Grad strides do not match bucket view strides", category=UserWarning
    )
    device_ids = [device.index] if device.type == "cuda" and device.index is not None else None
    return DistributedDataParallel(model, device_ids=device_ids, gradient_as_bucket_view=True)


def shard(order: torch.Tensor, rank: int, world_size: int) -> torch.Tensor:
    """This rank's indices of the shared epoch ``order`` (``DistributedSampler`` rule)."""
    n = int(order.shape[0])
    per_rank = math.ceil(n / world_size) if n else 0
    total = per_rank * world_size
    if total > n:
        reps = math.ceil((total - n) / n)
        order = torch.cat([order, order.repeat(reps)[: total - n]])
    return order[rank:total:world_size]


def sum_over_ranks(values: list[float]) -> list[float]:
    """Element-wise sums of ``values`` over all ranks (the values themselves alone)."""
    rows = distributed.all_gather_object([float(v) for v in values])
    return [float(sum(col)) for col in zip(*rows, strict=True)]


@torch.no_grad()
def predict_proba_everywhere(
    model: nn.Module,
    x: torch.Tensor,
    normalizer: Normalizer,
    *,
    device: torch.device,
    batch_size: int = 256,
) -> np.ndarray:
    """Softmax probabilities ``(N, K)`` of all of ``x``, identical on every rank: each
    rank predicts every ``world``-th image, then the parts are gathered."""
    world, rank = distributed.world_size(), distributed.rank()
    n = int(x.shape[0])
    mine = predict_proba(model, x[rank:n:world], normalizer, device=device, batch_size=batch_size)
    parts = distributed.all_gather_object(mine)
    k = max(int(p.shape[1]) for p in parts)
    out = np.zeros((n, k), dtype=np.float64)
    for r, part in enumerate(parts):
        if part.shape[0]:
            out[r:n:world] = part
    return out


def sync_buffers(model: nn.Module) -> None:
    """Copy rank 0's buffers (BatchNorm running statistics) to every rank."""
    if distributed.world_size() == 1:
        return
    import torch.distributed as dist

    with torch.no_grad():
        for buf in model.buffers():
            dist.broadcast(buf, src=0)


def state_digest(state: nn.Module | dict[str, Any]) -> str:
    """A SHA-256 digest of a model's ``state_dict`` (names, dtypes, shapes and bytes)."""
    items = state.state_dict() if isinstance(state, nn.Module) else state
    h = hashlib.sha256()
    for name in sorted(items):
        value = items[name]
        h.update(name.encode("utf-8"))
        if isinstance(value, torch.Tensor):
            t = value.detach().cpu().contiguous()
            h.update(f"{t.dtype}{tuple(t.shape)}".encode())
            h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
        else:
            h.update(repr(value).encode("utf-8"))
    return h.hexdigest()


def check_same_weights(model: nn.Module, what: str = "the trained weights") -> str:
    """The :func:`state_digest` of ``model``, after checking that every rank has the same
    (else :class:`~medaug.distributed.InconsistentRanksError` on every rank)."""
    found = state_digest(model)
    distributed.check_same_on_all_ranks(
        found,
        what,
        hint="data-parallel training went out of step; please report this as a medaug bug",
    )
    return found


def data_digest(*sets: Any) -> str:
    """A digest of :class:`~medaug.training.TensorData` sets (classes, labels, shapes
    and a sample of at most ~1,000 images each): equal on ranks that read the same data."""
    h = hashlib.sha256()
    for data in sets:
        h.update(repr((list(data.classes), tuple(data.x.shape))).encode("utf-8"))
        h.update(data.y.contiguous().numpy().tobytes())
        step = max(1, len(data) // 1000)
        h.update(data.x[::step].contiguous().numpy().tobytes())
    return h.hexdigest()
